"""Entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import gc

from office import create_app

app = create_app()
# The application's long-lived objects (mappers, templates, locale data) are made; keep them out of
# the collector's full scans, which otherwise cost every request a few milliseconds.
gc.collect()
gc.freeze()
