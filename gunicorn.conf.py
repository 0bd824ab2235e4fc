"""gunicorn settings, read automatically when gunicorn starts from the repository root.

Responses name no server software: gunicorn would otherwise send "Server: gunicorn" on every response, which tells an
attacker what to look up. gunicorn has no setting for this header, so the value it writes is replaced here, before it
serves its first request.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "OroCert"


def post_worker_init(worker):
    """Move everything the worker loaded at start-up (the app, its models, templates, compiled statements) out of the
    garbage collector's sight. Those objects live as long as the worker; without this, each full collection walks all
    of them again while a request waits, which shows as a long tail of slow responses."""
    import gc

    gc.collect()
    gc.freeze()
