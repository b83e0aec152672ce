"""Test harness: one migrated database per run (SQLite file, or PostgreSQL with
OFFICE_TEST_BACKEND=postgres), emptied after every test; a small organisation fixture; real Redis."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from office import create_app
from office.extensions import db

BACKEND = os.environ.get("OFFICE_TEST_BACKEND", "sqlite")
REQUIRE = os.environ.get("OFFICE_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("OFFICE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def service_missing(what: str):
    """Skip with a visible reason, or fail when CI requires the service."""
    if REQUIRE:
        pytest.fail(f"{what} is required (OFFICE_REQUIRE_SERVICES=1) but unreachable")
    pytest.skip(f"{what} unreachable")


# --- report for .ci/run ------------------------------------------------------------------------

_counts = {"passed": 0, "failed": 0, "redis_passed": 0, "browser_passed": 0, "postgres_passed": 0,
           "faults_passed": 0}


def pytest_runtest_logreport(report):
    if report.when == "call":
        if report.passed:
            _counts["passed"] += 1
            for marker in ("redis", "browser", "postgres", "faults"):
                if marker in report.keywords:
                    _counts[f"{marker}_passed"] += 1
        elif report.failed:
            _counts["failed"] += 1


def pytest_sessionfinish(session, exitstatus):
    out = ROOT / ".test-report"
    out.mkdir(exist_ok=True)
    name = "postgresql" if BACKEND == "postgres" else "sqlite"
    (out / f"{name}.json").write_text(json.dumps(_counts))


def pytest_collection_modifyitems(config, items):
    if BACKEND == "postgres":
        return
    skip_pg = pytest.mark.skip(reason="PostgreSQL-only test: runs in the PostgreSQL pass (make test-postgres)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip_pg)


# --- app and database --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """SQLite file, or a fresh PostgreSQL database for this run (concurrent runs never collide)."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    if not _reachable(PG_URL, 5432):
        service_missing(f"PostgreSQL at {PG_URL}")
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL)
    name = f"office_test_{os.getpid()}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    inst = tmp_path_factory.mktemp("instance")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(inst),
        "STORAGE_DIR": str(inst / "storage"),
        "JOBS_INPROCESS_MODE": "sync",
        "REDIS_URL": None,
        "SMTP_HOST": None,
        # Tests match messages by their English msgids; test_views and test_i18n check zh_CN.
        "BABEL_DEFAULT_LOCALE": "en",
    })
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_database():
    tables = [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for t in reversed(tables):
            db.session.execute(t.delete())
    db.session.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    db.session.commit()


@pytest.fixture(autouse=True)
def app_ctx(app):
    """Every test runs in an app context on an empty database (the audit head in place)."""
    from office import timeutil

    with app.app_context():
        yield app
        db.session.rollback()
        timeutil.freeze(None)
        _empty_database()
        shutil.rmtree(Path(app.config["INSTANCE_DIR"]) / "audit-anchors", ignore_errors=True)
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


# --- a small organisation ----------------------------------------------------------------------

MINI_DIVISIONS = """code,name,level,parent_code
330000,浙江省,province,
330100,杭州市,city,330000
330200,宁波市,city,330000
330106,西湖区,county,330100
330102,上城区,county,330100
330203,海曙区,county,330200
330106109,三墩镇,township,330106
330106110,双浦镇,township,330106
330102001,清波街道,township,330102
330203001,南门街道,township,330203
"""

PASSWORD = "Test@2026pass"


class Org:
    """Handy access to the mini organisation: org.unit("330106", "gov"), org.user("county_clerk")."""

    def unit(self, division_code: str, function: str = "gov"):
        from office.org.models import Unit

        return db.session.execute(db.select(Unit).where(Unit.code == f"{division_code}-{function}")).scalar_one()

    def user(self, username: str):
        from office.auth.models import User

        return db.session.execute(db.select(User).where(User.username == username)).scalar_one()

    def post(self, username: str):
        from office.auth.service import primary_post

        return primary_post(self.user(username))

    def actor(self, username: str):
        from office.actor import actor_for_post

        return actor_for_post(self.post(username))

    def add_user(self, username: str, name: str, division_code: str, function: str, roles, rank=None):
        from office.auth.models import Post, PostRole, User

        user = User(username=username, name=name, password_hash=_hash(), email=f"{username}@test.invalid")
        db.session.add(user)
        db.session.flush()
        db.session.add(Post(user_id=user.id, unit_id=self.unit(division_code, function).id, title="",
                            rank=rank, is_primary=True, role_rows=[PostRole(role=r) for r in roles]))
        db.session.commit()
        return user


_HASH = None


def _hash():
    global _HASH
    if _HASH is None:
        from office.auth.passwords import hash_password

        _HASH = hash_password(PASSWORD)
    return _HASH


MINI_PEOPLE = [
    # username, name, division, function, roles, rank
    ("prov_leader", "李建国", "330000", "gov", ["leader"], 1),
    ("prov_clerk", "王晓燕", "330000", "office", ["clerk"], None),
    ("sysadmin", "吴昊", "330000", "office", ["sys_admin"], None),
    ("secadmin", "郑凯", "330000", "office", ["sec_admin"], None),
    ("auditor", "冯雪", "330000", "office", ["audit_admin"], None),
    ("city_leader", "杨光明", "330100", "gov", ["leader"], 1),
    ("city_clerk", "钱佳怡", "330100", "office", ["clerk"], None),
    ("county_leader", "宋立新", "330106", "gov", ["leader"], 1),
    ("county_deputy", "谢晓东", "330106", "gov", ["leader"], 2),
    ("county_clerk", "罗静", "330106", "office", ["clerk"], None),
    ("county_staff", "梁文斌", "330106", "office", ["staff"], None),
    ("county_admin", "许丹", "330106", "office", ["unit_admin"], None),
    ("county_mz_leader", "唐永红", "330106", "mz", ["leader"], 1),
    ("other_county_clerk", "孔明", "330102", "office", ["clerk"], None),
    ("other_county_admin", "鲁迅", "330102", "office", ["unit_admin"], None),
    ("town_clerk", "邓春燕", "330106109", "gov", ["clerk"], None),
    ("town_leader", "蒋国庆", "330106109", "gov", ["leader"], 1),
    ("town2_clerk", "彭浩", "330106110", "gov", ["clerk"], None),
]


@pytest.fixture
def org(app_ctx) -> Org:
    from office.demo import build_units
    from office.org.service import import_divisions

    import_divisions(io.StringIO(MINI_DIVISIONS))
    build_units()
    db.session.commit()
    o = Org()
    for username, name, div, fn, roles, rank in MINI_PEOPLE:
        o.add_user(username, name, div, fn, roles, rank)
    return o


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real form (fetching its CSRF token)."""
    page = client.get("/login", follow_redirects=True)
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_from(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def post_form(client, url: str, data: dict | None = None, page: str = "/"):
    """POST with a valid CSRF token taken from ``page``."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    payload = dict(data or {})
    payload["csrf_token"] = token
    return client.post(url, data=payload)


# --- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_url():
    if not _reachable(REDIS_URL, 6379):
        service_missing(f"Redis at {REDIS_URL}")
    return REDIS_URL


# --- browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(app):
    """The session app served on a free loopback port (the SQLite test file is shared)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        # Deliberately a skip even with OFFICE_REQUIRE_SERVICES=1: the browser is not a service.
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_factory(browser):
    from tests.browser_support import DESKTOP

    contexts = []

    def make(viewport=None):
        ctx = browser.new_context(viewport=viewport or DESKTOP, locale="zh-CN")
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page(page_factory):
    return page_factory()


def run_threads(app, n, work):
    """Run ``work(i)`` for i in 0..n-1 on n threads that start together, each in its own app
    context and session; each result, or the exception it raised, by i."""
    import threading

    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
