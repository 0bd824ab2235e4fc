from tests.factories import PASSWORD, create_trainee, create_user


def test_home_page_links_to_verification(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"Verify a certificate" in resp.data


def test_trainee_signs_in_and_sees_dashboard(ctx, client, program):
    from lms.extensions import db

    user = create_trainee(email="t@example.test")
    db.session.commit()
    resp = client.post("/login", data={"email": "t@example.test", "password": PASSWORD})
    assert resp.status_code == 302
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert b"Certification decision" in page.data
    assert user.name.encode() in page.data


def test_full_demo_seed_issues_a_verifiable_certificate(ctx, client, program):
    from lms.demo import seed
    from lms.extensions import db

    lines = seed()
    db.session.commit()
    serial = next(line for line in lines if line.startswith("Demo certificate")).split()[2]
    resp = client.get(f"/api/v1/certificates/{serial}")
    assert resp.status_code == 200
    assert resp.json["status"] == "active"
    assert resp.json["endorsements"] == ["extraoral", "intraoral"]
    create_user("admin")
