"""OroCert: training and certification registry for orofacial massage and rehabilitation."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request

from config import Config, ProductionConfig, config_from_env, instance_path


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    config_class = config_class or config_from_env()
    inst = Path(overrides.pop("INSTANCE_PATH", None) or instance_path())
    production = issubclass(config_class, ProductionConfig)
    app = (_ProductionFlask if production else Flask)(
        __name__,
        instance_path=str(inst),
        template_folder=str(config_class.TEMPLATES_DIR),
        static_folder="static",
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    app.config["INSTANCE_PATH"] = inst
    if production:
        ProductionConfig.check(app.config)
    inst.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{inst / 'orocert.db'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 15}}

    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1, x_host=1)

    register_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_request_hooks(app)
    register_notifications(app)
    return app


class _ProductionFlask(Flask):
    """A production app refuses debug mode whenever it is asked for: after start-up checks too (`app.run(debug=True)`,
    or the flask CLI setting `app.debug` from FLASK_DEBUG once the app is built)."""

    @property
    def debug(self) -> bool:
        return False

    @debug.setter
    def debug(self, value: bool) -> None:
        if value:
            raise RuntimeError("DEBUG must be off in production")
        self.config["DEBUG"] = False


def register_converters(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter

    class DatabaseIdConverter(IntegerConverter):
        """Ids in URLs fit a 32-bit signed column; a larger number is simply not found (404), never a 500."""

        def __init__(self, map, *args, **kwargs):  # noqa: A002 - Werkzeug's signature
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseIdConverter


def register_extensions(app: Flask) -> None:
    from lms.core import i18n
    from lms.core.database import configure_engine
    from lms.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = i18n.N_("Please sign in to see that page.")
    login_manager.localize_callback = i18n.gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    with app.app_context():
        configure_engine(db.engine)
    i18n.init_app(app)

    import lms.models  # noqa: F401  (register every model with the metadata)
    from lms.api.sessions import ApiAwareSessionInterface, is_api_request
    from lms.auth.models import User

    app.session_interface = ApiAwareSessionInterface()  # the API neither reads nor sets the session cookie

    @login_manager.user_loader
    def load_user(token: str):
        if is_api_request(request):  # nor does it honour the remember-me cookie
            return None
        return db.session.execute(db.select(User).filter_by(session_token=token)).scalar_one_or_none()


def register_blueprints(app: Flask) -> None:
    from lms.admin.reports import bp as reports_bp
    from lms.admin.views import bp as admin_bp
    from lms.api.views import bp as api_bp
    from lms.assessments.views import bp as assessments_bp
    from lms.auth.views import bp as auth_bp
    from lms.certificates.views import bp as certificates_bp
    from lms.exams.views import bp as exams_bp
    from lms.extensions import csrf
    from lms.hours.views import bp as hours_bp
    from lms.jurisdictions.views import bp as regulations_bp
    from lms.main.views import bp as main_bp
    from lms.providers.views import bp as providers_bp
    from lms.renewal.views import bp as renewal_bp
    from lms.screening.views import bp as screening_bp
    from lms.training.views import bp as training_bp

    for bp in (main_bp, auth_bp, providers_bp, training_bp, hours_bp, assessments_bp, screening_bp,
               regulations_bp, certificates_bp, renewal_bp, admin_bp, reports_bp, api_bp, exams_bp):
        app.register_blueprint(bp)
    from lms.api.admin import bp as api_keys_bp

    app.register_blueprint(api_keys_bp)
    csrf.exempt(api_bp)  # the JSON API is stateless: no cookies are honoured there
    from lms.training.diagrams import bp as diagrams_bp

    app.register_blueprint(diagrams_bp)  # course diagrams shown inline in module pages
    from lms.help.views import bp as help_bp

    app.register_blueprint(help_bp)  # help, FAQ, contact, privacy, terms and the favicon
    from lms.transcripts.views import bp as transcripts_bp

    app.register_blueprint(transcripts_bp)
    register_directory(app)
    from lms.cases.views import bp as cases_bp
    from lms.cases.views import outcomes_bp

    app.register_blueprint(cases_bp)  # clinical cases and outcome measures
    app.register_blueprint(outcomes_bp)


def register_directory(app: Flask) -> None:
    """The public provider directory, its JSON API and the access-gap report."""
    from lms.directory.views import api_bp as directory_api_bp
    from lms.directory.views import bp as directory_bp
    from lms.extensions import csrf

    app.register_blueprint(directory_bp)
    app.register_blueprint(directory_api_bp)
    csrf.exempt(directory_api_bp)


def register_notifications(app: Flask) -> None:
    from lms.notifications.setup import init_app

    init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from lms.core.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from lms.cli import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from lms.auth.sessions import enforce_session_timeouts
    from lms.core.database import set_write_intent
    from lms.core.security import apply_security_headers

    @app.before_request
    def _write_intent():
        set_write_intent(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _clear_write_intent(_exc):
        set_write_intent(False)

    app.before_request(enforce_session_timeouts)
    app.after_request(apply_security_headers)

    from lms.core import idempotency  # after the hooks that load the signed-in user

    idempotency.init_app(app)

    from lms.core import uploads  # staged evidence files, private instance folder, `uploads sweep`

    uploads.init_app(app)

    from lms.core import formatting  # date, datetime, hours filters: one readable format in every page

    formatting.register(app)

    @app.context_processor
    def _globals():
        from lms.core.templating import template_globals

        return template_globals()

    if os.environ.get("LMS_SQL_ECHO"):
        app.config["SQLALCHEMY_ECHO"] = True
