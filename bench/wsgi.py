"""The OroCert app as the verification benchmark serves it with gunicorn: the development configuration on the bench
database, with rate limits off (the load generator is one address sending thousands of requests a second). With
``REDIS_URL`` in the environment it uses the shared Redis cache (under the bench's own key prefix)."""

import os

from config import DevelopmentConfig
from lms import create_app

app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DB_URL"],
                 INSTANCE_PATH=os.environ["LMS_INSTANCE_PATH"], RATELIMIT_ENABLED=False,
                 REDIS_URL=os.environ.get("REDIS_URL") or None,
                 CACHE_KEY_PREFIX=os.environ.get("BENCH_CACHE_PREFIX", "orocert-bench:cache:"))
