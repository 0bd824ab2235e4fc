"""Directory pages: the public search, the holder's listing, the printable list, the JSON API and the access report."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.core.security import CSP, role_required
from lms.directory import access, operations
from lms.directory.choices import CONDITIONS, ENDORSEMENTS, LANGUAGES
from lms.directory.forms import ListingForm
from lms.directory.geography import UnknownPlace
from lms.extensions import db, limiter
from lms.providers.professions import profession_choices

bp = Blueprint("directory", __name__)
api_bp = Blueprint("directory_api", __name__, url_prefix="/api/v1")

RADIUS_CHOICES = (10, 25, 50, 100, 250, 500, 1000)


def _limit():
    return current_app.config["PUBLIC_API_RATE_LIMIT"]


def tile_origin(url: str) -> str | None:
    """The CSP source for a tile URL template ("https://{s}.tile.example.org/{z}/{x}/{y}.png" gives
    "https://*.tile.example.org"), or None when the setting is empty or not an http(s) URL."""
    url = (url or "").strip()
    parts = urlsplit(url.replace("{s}", "sub"))
    if parts.scheme not in ("https", "http") or not parts.netloc or any(c in url for c in " ;,'\""):
        return None
    host = urlsplit(url).netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def _with_tile_csp(response, origin: str | None):
    if origin:
        response.headers["Content-Security-Policy"] = CSP.replace("img-src 'self' data:",
                                                                  f"img-src 'self' data: {origin}")
    return response


def _verify_url(serial: str) -> str:
    # The registry's public address, as printed on certificates (not whatever host this request came in on).
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("certificates.verify_page", serial=serial)


def _run_search(args, **kw):
    """(result, error message, HTTP status) for a search request."""
    try:
        params = operations.parse_params(args, **kw)
        return operations.search(params), None, 200
    except (operations.SearchError, UnknownPlace) as exc:
        return None, str(exc), 400


def _filters() -> dict:
    return {"professions": profession_choices(), "endorsements": ENDORSEMENTS, "conditions": CONDITIONS,
            "languages": LANGUAGES, "radii": RADIUS_CHOICES}


@bp.get("/directory")
@limiter.limit(_limit)
def index():
    result, error, status = _run_search(request.args)
    tiles = current_app.config.get("DIRECTORY_TILE_URL") or ""
    origin = tile_origin(tiles)
    entries = [operations.public_entry(h, _verify_url(h.row.serial)) for h in result.hits] if result else []
    response = Response(render_template(
        "directory/index.html", result=result, entries=entries, error=error, args=request.args,
        tile_url=tiles if origin else "", tile_attribution=current_app.config.get("DIRECTORY_TILE_ATTRIBUTION", ""),
        **_filters()), status=status)
    return _with_tile_csp(response, origin)


@bp.get("/directory/print.pdf")
@limiter.limit(_limit)
def print_pdf():
    from lms.directory.printing import render_list

    if not (request.args.get("near") or "").strip():
        return render_template("directory/print_error.html", error="Choose a city or postal code first: the "
                               "printed list shows the providers near one place.", **_filters()), 400
    try:
        params = operations.parse_params(request.args)
        result = operations.search(params, limit=operations.PRINT_LIMIT)
    except (operations.SearchError, UnknownPlace) as exc:
        return render_template("directory/print_error.html", error=str(exc), **_filters()), 400
    entries = [operations.public_entry(h, _verify_url(h.row.serial)) for h in result.hits]
    pdf = render_list(result, entries)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=orocert-providers.pdf"})


@bp.route("/directory/listing", methods=["GET", "POST"])
@role_required("trainee")
def listing():
    existing = operations.listing_of(current_user.id)
    form = ListingForm(obj=existing)
    if request.method == "GET" and existing is None:
        form.show_profession.data = True
        form.show_endorsements.data = True
    if existing is not None and request.method == "GET":
        form.city.data = f"{existing.city}, {existing.region_code or existing.region_name}, {existing.country}"
    cert = operations.active_certificate(current_user.id)
    status = 200
    if form.validate_on_submit():
        try:
            saved = operations.save_listing(current_user, form.data)
        except operations.ListingError as exc:
            db.session.rollback()
            form.city.errors = [*form.city.errors, str(exc)] if "city" in str(exc).lower() else form.city.errors
            flash(str(exc), "error")
            status = 400
        else:
            db.session.commit()
            flash("Your listing is in the directory." if saved.listed and operations.is_listable(current_user.id)
                  else "Your listing is saved; it is not shown in the directory.", "success")
            return redirect(url_for("directory.listing"))
    elif request.method == "POST":
        status = 400
    return render_template("directory/listing.html", form=form, listing=existing, certificate=cert,
                           shown=operations.is_listable(current_user.id), withdraw_form=FlaskForm()), status


@bp.post("/directory/listing/withdraw")
@role_required("trainee")
def withdraw():
    if not FlaskForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("directory.listing"))
    if operations.withdraw(current_user):
        db.session.commit()
        flash("Your listing was withdrawn. It no longer appears in the directory.", "success")
    else:
        flash("You were not listed.", "info")
    return redirect(url_for("directory.listing"))


@bp.get("/access")
def access_report():
    sort = request.args.get("sort", "jurisdiction")
    sort = sort if sort in access.SORT_KEYS else "jurisdiction"
    descending = request.args.get("dir") == "desc"
    rows = access.sort_rows(access.report(rules_file=current_app.config["JURISDICTIONS_FILE"]), sort, descending)
    bars, top = access.chart_bars(rows)
    return render_template("directory/access.html", rows=rows, sort=sort, descending=descending, bars=bars,
                           top=top, sources=sorted({(r.population_year, r.population_source) for r in rows
                                                    if r.population_source}))


@bp.get("/access.csv")
@role_required("admin")
def access_csv():
    rows = access.report(rules_file=current_app.config["JURISDICTIONS_FILE"])
    return Response(access.to_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=orocert-access-gap.csv"})


@api_bp.get("/directory")
@limiter.limit(_limit)
def api_search():
    result, error, status = _run_search(request.args, per_page_arg=True)
    if error:
        return jsonify({"error": {"code": status, "message": error}}), status
    p = result.params
    return jsonify({
        "near": ({"query": p.near, "place": result.origin.label, "latitude": result.origin.latitude,
                  "longitude": result.origin.longitude, "precision": "city" if result.origin.kind == "city"
                  else "postal-area", "radius_km": p.radius_km} if result.origin else None),
        "alternatives": [a.label for a in result.alternatives],
        "total": result.total,
        "page": p.page,
        "per_page": p.per_page,
        "pages": result.pages,
        "results": [operations.public_entry(h, _verify_url(h.row.serial)) for h in result.hits],
    })
