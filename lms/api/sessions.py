"""The API honours no cookies: a session interface that neither reads nor writes the session cookie under /api/.

Browsers attach the site's session cookie to every request, including cross-site ones to the API. Were the API to
honour it, a signed-in board member's page could make checks logged under their account, and a response could refresh
their session. So under the API prefix the session is always a fresh, empty one and is never saved; identity comes
only from a board API key in the ``Authorization`` header.
"""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


class ApiAwareSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if is_api_request(request):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        from flask import request

        if is_api_request(request):
            return None
        return super().save_session(app, session, response)
