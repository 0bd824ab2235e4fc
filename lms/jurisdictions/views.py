from flask import Blueprint, Response, current_app, render_template, request

from lms.jurisdictions.data import JURISDICTIONS, load_rules, to_csv
from lms.providers.professions import profession_choices

bp = Blueprint("regulations", __name__)


def _filtered():
    rules = load_rules(current_app.config["JURISDICTIONS_FILE"])
    text = request.args.get("q", "")[:200]
    jurisdiction = request.args.get("jurisdiction") or None
    profession = request.args.get("profession") or None
    if jurisdiction not in JURISDICTIONS:
        jurisdiction = None
    if profession not in dict(profession_choices()):
        profession = None
    return rules, rules.search(text, jurisdiction=jurisdiction, profession=profession), text, jurisdiction, profession


@bp.get("/regulations")
def index():
    rules, found, text, jurisdiction, profession = _filtered()
    return render_template("regulations/index.html", ruleset=rules, rules=found, q=text, jurisdiction=jurisdiction,
                           profession=profession, jurisdictions=JURISDICTIONS, professions=profession_choices())


@bp.get("/regulations.csv")
def csv():
    _, found, *_ = _filtered()
    return Response(to_csv(found), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=orocert-regulations.csv"})
