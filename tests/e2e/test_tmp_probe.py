import pytest
from tests.e2e.support import axe_violations, sign_in, HYGIENIST

pytestmark = pytest.mark.e2e

def test_probe(page, axe_source, live_server):
    page.goto("/")
    page.evaluate("() => { const i = document.createElement('img'); i.src='/static/app.css'; document.querySelector('main').appendChild(i); }")
    v = axe_violations(page, axe_source)
    print(v)
