"""Help, FAQ, contact, privacy and terms: public pages in plain words, linked from every page's footer."""

from flask import Blueprint, current_app, render_template, send_from_directory

from lms.core.i18n import N_

bp = Blueprint("help", __name__)

PAGES = {"help": N_("Help"), "faq": N_("Frequently asked questions"), "contact": N_("Contact"),
         "privacy": N_("Privacy"), "terms": N_("Terms of use")}


def _page(name: str):
    return render_template(f"help/{name}.html", title=PAGES[name], pages=PAGES,
                           contact_email=current_app.config["CONTACT_EMAIL"])


@bp.get("/help")
def index():
    return _page("help")


@bp.get("/help/faq")
def faq():
    return _page("faq")


@bp.get("/contact")
def contact():
    return _page("contact")


@bp.get("/privacy")
def privacy():
    return _page("privacy")


@bp.get("/terms")
def terms():
    return _page("terms")


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico whatever the page says; pages link the SVG and this ICO.
    resp = send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)
    return resp
