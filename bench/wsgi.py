"""The OroCert app as the verification benchmark serves it with gunicorn: the development configuration on the bench
database, with rate limits off (the load generator is one address sending thousands of requests a second)."""

import os

from config import DevelopmentConfig
from lms import create_app

app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DB_URL"],
                 INSTANCE_PATH=os.environ["LMS_INSTANCE_PATH"], RATELIMIT_ENABLED=False)
