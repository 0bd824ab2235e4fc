from lms.extensions import db
from tests.factories import PASSWORD, create_user


def test_huge_ids_are_404(ctx, client):
    create_user("admin", email="h@example.test")
    db.session.commit()
    client.post("/login", data={"email": "h@example.test", "password": PASSWORD})
    for url in ("/admin/trainees/99999999999999999999", "/evidence/99999999999999999999",
                "/assessments/9223372036854775808"):
        assert client.get(url).status_code == 404
