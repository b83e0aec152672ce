"""gunicorn settings of the web processes (``gunicorn -c gunicorn.conf.py wsgi:app``), chosen from
the measurements in bench/RESULTS.md ("Serving"): one threaded worker per core, eight threads each,
connections kept open. ``WEB_CONCURRENCY`` / ``OFFICE_WEB_THREADS`` override the counts."""

import os

# One process per core runs Python on every core; a second per core only adds memory and switching
# (the acceptance run's pages were slower with 4 workers x 4 threads than with 2 x 8 on 2 cores).
workers = int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1))
# gthread: a browser's connection stays open between pages (keep-alive), and the threads of a
# process serve other pages while one request waits for PostgreSQL or hashes a password.
worker_class = "gthread"
threads = int(os.environ.get("OFFICE_WEB_THREADS") or 8)
keepalive = 5  # seconds an idle connection is kept (a clerk clicks through a list within that)
timeout = 60
graceful_timeout = 20
# Bound a worker's memory over weeks of uptime: each is replaced after this many requests (the
# jitter keeps them from restarting together).
max_requests = 20000
max_requests_jitter = 2000
bind = os.environ.get("OFFICE_BIND", "127.0.0.1:8000")
