"""RQ side: the function RQ calls, and the ``flask worker`` command."""

from __future__ import annotations

import os

from flask import current_app, has_app_context

from office.extensions import db

_app = None
_pid = None


def _app_for_worker():
    global _app
    if has_app_context():
        return current_app._get_current_object()
    if _app is None:
        from office import create_app

        _app = create_app()
    return _app


def run_outbox_job(job_id: int) -> str:
    """Called by RQ in a forked work horse; connections inherited from the parent are dropped."""
    global _pid
    from office.jobs.service import run_job

    app = _app_for_worker()
    with app.app_context():
        if _pid != os.getpid():
            db.engine.dispose(close=False)
            _pid = os.getpid()
        try:
            return run_job(job_id, reraise=True, heartbeat=True)
        finally:
            db.session.remove()
