"""gunicorn settings, read automatically when gunicorn starts from the repository root.

Responses name no server software: gunicorn would otherwise send "Server: gunicorn" on every response, which tells an
attacker what to look up. gunicorn has no setting for this header, so the value it writes is replaced here, before it
serves its first request.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "OroCert"
