from tests.web.test_hours import *  # noqa
from tests.web.test_hours import _submit, _row

def test_dbg(people):
    entry = _submit(people)
    stale = db.session.get(HourEntry, entry.id)
    db.session.expunge(stale)
    db.session.rollback()
    print("in txn after rollback", db.session.in_transaction())
    with people.app.app_context():
        print("inner same?", db.session.in_transaction())
        fresh = db.session.get(HourEntry, entry.id)
        ledger.decide(fresh, "approved", actor=db.session.get(User, people.sup.id))
        db.session.commit()
    print("outer in txn", db.session.in_transaction())
    people.admin.id
    print("outer in txn", db.session.in_transaction())
    ledger.decide(stale, "rejected", actor=people.admin, reason="Duplicate of another entry.")
