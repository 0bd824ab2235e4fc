import pytest
from tests.e2e.support import axe_violations, sign_in, HYGIENIST

pytestmark = pytest.mark.e2e

def test_probe(page, axe_source, live_server):
    page.goto("/")
    v = axe_violations(page, axe_source)
    print(v)
    sign_in(page, HYGIENIST)
    page.goto("/hours/")
    print(page.title())
