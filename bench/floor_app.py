"""The floor for verification throughput: a bare Flask + Flask-SQLAlchemy app answering
``GET /api/v1/certificates/<serial>`` with one indexed lookup of the certificate by its serial (a unique key, so the
same B-tree probe as a primary-key lookup) and a small JSON body. Nothing else: no sessions, no logging of the check,
no status computation. Served by gunicorn exactly like the app, on the same database."""

import os

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Date, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Certificate(db.Model):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    expires_on = mapped_column(Date)


def create_floor_app(url: str) -> Flask:
    app = Flask(__name__)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)

    @app.get("/api/v1/certificates/<serial>")
    def certificate(serial: str):
        cert = db.session.execute(select(Certificate).filter_by(serial=serial)).scalar_one_or_none()
        if cert is None:
            return jsonify({"error": "not found"}), 404
        return jsonify({"serial": cert.serial, "holder": cert.holder_name, "expires_on": cert.expires_on.isoformat()})

    return app


app = create_floor_app(os.environ["BENCH_DB_URL"]) if "BENCH_DB_URL" in os.environ else None
