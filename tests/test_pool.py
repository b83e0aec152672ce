"""The PostgreSQL pool keeps a connection for every serving thread, so that a busy process does not
open and close a backend per request (SQLAlchemy's default pool keeps 5)."""

from __future__ import annotations

import runpy
from pathlib import Path

from office.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def test_pool_holds_a_connection_per_serving_thread(monkeypatch):
    monkeypatch.delenv("OFFICE_DB_POOL_SIZE", raising=False)
    threads = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]
    cfg = load_config({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1/db"})
    assert cfg["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] >= threads
    # No ping per checkout: an idle connection is pinged before use (office/dbping.py).
    assert "pool_pre_ping" not in cfg["SQLALCHEMY_ENGINE_OPTIONS"] and cfg["DB_PING_IDLE_SECONDS"] == 10

    monkeypatch.setenv("OFFICE_DB_POOL_SIZE", "24")
    cfg = load_config({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@127.0.0.1/db"})
    assert cfg["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 24
    # SQLite keeps SQLAlchemy's own pool for a file database.
    assert "pool_size" not in load_config({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"})["SQLALCHEMY_ENGINE_OPTIONS"]
