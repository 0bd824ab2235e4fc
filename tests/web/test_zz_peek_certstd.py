import json
from tests.factories import *
def test_peek(ctx, runner, program):
    from lms.demo import seed
    from lms.extensions import db
    seed(); db.session.commit()
    for e in ("hygienist", "massage", "slp"):
        r = runner.invoke(args=["eligibility", f"{e}@orocert.test", "--json"])
        d = json.loads(r.output)
        print(e, d["eligible"], d["endorsements"], d["notices"])
        for q in d["requirements"]:
            print("   ", q["id"], q["met"], q["progress"], "|", q["reason"][:150])
    r = runner.invoke(args=["eligibility", "massage@orocert.test"])
    print(r.output)
