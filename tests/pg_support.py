"""PostgreSQL for the tests: the same repository tests run on SQLite and on PostgreSQL.

`TEST_POSTGRES_URL` (set by .ci/run) names a server whose user may create databases; without it a
throw-away cluster is started here from the server binaries on the machine (as the `postgres`
user when the tests run as root: the server refuses root), on a free local port, with fsync off.
Each test gets a database of its own. When neither works the PostgreSQL half skips, saying why.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from storage import Repository

BACKENDS = ["sqlite", "postgresql"]
_state: dict[str, str | None] = {}


def _start_cluster() -> tuple[str | None, str]:
    """(URL, '') of a throw-away cluster, or (None, why it could not start)."""
    from storage import local_pg

    root = Path(tempfile.mkdtemp(prefix="hoinghi-pg-"))
    try:
        url = local_pg.start(root, fast=True)
    except local_pg.ClusterError as exc:
        shutil.rmtree(root, ignore_errors=True)
        return None, str(exc)

    def stop() -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            local_pg.stop(root)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return url, ""


def server_url() -> str:
    """The admin URL of a server for the tests; pytest.skip with the reason when there is none."""
    if "url" not in _state:
        try:
            import asyncpg  # noqa: F401
        except ImportError:
            _state["url"], _state["why"] = None, "asyncpg is not installed"
        else:
            given = os.environ.get("TEST_POSTGRES_URL")
            if given:
                _state["url"], _state["why"] = given, ""
            else:
                _state["url"], _state["why"] = _start_cluster()
    url = _state["url"]
    if url is None:
        pytest.skip(f"PostgreSQL tests skipped: {_state['why']}")
    return url


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    import asyncpg

    admin_url = server_url()
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def database(backend: str, tmp_path: Path, name: str = "db.sqlite3") -> AsyncIterator[str]:
    """A BOT_DATABASE value of a new database on `backend`."""
    if backend == "sqlite":
        yield str(tmp_path / name)
        return
    async with fresh_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        server_url()  # skips here, with the reason, when there is no server
    return str(request.param)


@pytest.fixture
async def db_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    async with database(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def any_repo(db_url: str) -> AsyncIterator[Repository]:
    repository = await Repository.open(db_url)
    yield repository
    await repository.close()


async def pg_index_is_rebuilt(repo: Repository) -> bool:
    """Whether every PostgreSQL index row equals the row rebuilt from the report as it is now
    (what the SQLite tests check with FTS5's instance table)."""
    from storage.folding import fold
    from storage.pg import tsvector

    rows = await repo._rows(
        "SELECT r.id, COALESCE(r.title, r.summary_title), r.text, r.items_text, CAST(f.doc AS text), "
        "CAST(f.keys AS text) "
        "FROM reports r LEFT JOIN report_fts f ON f.rowid = r.id ORDER BY r.id"
    )
    for rowid, title, text, items, doc, keys in rows:
        row = tsvector(fold(title), fold(text), fold(items), rowid=rowid)
        rebuilt = await repo._rows(
            "SELECT CAST(CAST(? AS tsvector) AS text), CAST(CAST(? AS tsvector) AS text)", (row.doc, row.keys)
        )
        if rebuilt[0] != (doc, keys):
            return False
    return bool(rows)
