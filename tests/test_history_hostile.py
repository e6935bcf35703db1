"""The history file when something else has it: another process holding its write lock, a file
SQLite can open but not write. The file belongs to whoever holds it: the radiator leaves it where
it is, keeps its history in memory for the run and says so, naming the file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from buildradiator.assemble import build_engine
from buildradiator.cli import main
from buildradiator.clock import FakeClock
from buildradiator.engine import engine as engine_mod
from buildradiator.history import History
from buildradiator.history.store import Store, guarded
from buildradiator.model import Build, Pipeline, SourceResult, Status
from buildradiator.sources.catalog import parse_config
from buildradiator.sources.http import HttpClient
from engine_helpers import CONFIG, Scripted, source

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO meta VALUES ('held', 'yes')")
    print("held", flush=True)
    sys.stdin.readline()  # hold the write lock until told
    db.execute("COMMIT")
    """
)


def red(n: int) -> Build:
    return Build(source="gh", pipeline="acme/app", id=str(n), number=n, status=Status.FAILED,
                 finished_at=NOW - timedelta(hours=n), commit=f"c{n}")  # fmt: skip


@contextmanager
def holding(path: Path) -> Iterator[None]:
    """Another process holds the write lock of the history at ``path`` until the block ends
    (a radiator or ``sqlite3`` in the middle of a long write)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "held"
        yield
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A history with two builds whose write lock another process holds, waited for a tenth
    of a second, not five."""
    monkeypatch.setattr(Store, "BUSY_TIMEOUT", 0.1)
    path = tmp_path / "data" / "history.sqlite3"
    with History.open(path, clock=FakeClock(NOW)) as store:
        assert store.record_builds([red(1), red(2)]) == 2
    with holding(path):
        yield path


def test_a_history_another_process_is_writing_is_never_set_aside_as_damaged(held: Path) -> None:
    with History.open(held, clock=FakeClock(NOW)) as store:
        # The radiator runs on, its history in memory, and says why in plain words.
        assert store.record_builds([red(3)]) == 1
        assert store.red_streak("gh", "acme/app") is not None
        assert len(store.notices) == 1
        notice = store.notices[0]
        assert str(held) in notice and "locked" in notice and "in memory" in notice
        assert "damaged" not in notice
    # The file is where it was, nothing moved aside, and once free it still holds its builds.
    assert not list(held.parent.glob("*.corrupt-*"))
    with sqlite3.connect(held) as db:  # readers never wait for a writer (WAL)
        assert db.execute("SELECT count(*) FROM builds").fetchone()[0] == 2
    db.close()


def test_a_history_that_cannot_be_written_is_left_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file SQLite opens but may not write (another user's, a read-only mount): running as
    root no permission bit stops a write, so SQLite is opened read-only, as such a file is."""
    path = tmp_path / "data" / "history.sqlite3"
    with History.open(path, clock=FakeClock(NOW)) as store:
        assert store.record_builds([red(1), red(2)]) == 2
    raw = Store._raw_connect

    def read_only(self: Store) -> object:
        db = raw(self)
        db.execute("PRAGMA query_only = ON")
        return db

    monkeypatch.setattr(Store, "_raw_connect", read_only)
    with History.open(path, clock=FakeClock(NOW)) as store:
        assert store.record_builds([red(3)]) == 1
        assert len(store.notices) == 1 and str(path) in store.notices[0]
        assert "damaged" not in store.notices[0]
    assert not list(path.parent.glob("*.corrupt-*"))
    monkeypatch.undo()
    with History.open(path, clock=FakeClock(NOW)) as store:
        assert len(store.recent_strip("gh", "acme/app")) == 2


# -- ``report`` only reads: a file it is pointed at that is no history is refused, untouched ----


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("config.toml", b"[radiator]\ninterval = 30\n", "not an SQLite database"),
        ("contacts.db", None, "not a buildradiator history"),
        ("newer.sqlite3", b"newer", "newer buildradiator"),
        ("empty.sqlite3", b"", "empty"),
    ],
    ids=["config", "another-database", "newer", "empty"],
)
def test_report_never_moves_nor_rewrites_a_file_that_is_no_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None,
    words: str,
) -> None:  # fmt: skip
    """``report --history config.toml`` (a slip of the tab key) renamed the config to
    ``config.toml.corrupt-...``, wrote an empty SQLite history in its place, printed a report of
    nothing and exited 0: the next radiator start then failed on a config that was a database."""
    path = tmp_path / name
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE contacts (name TEXT)")
        db.close()
    elif content == b"newer":
        with sqlite3.connect(path) as db:
            db.executescript(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "INSERT INTO meta VALUES ('schema_version', '99')"
            )
        db.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    assert main(["report", "--history", str(path), "--tz", "UTC"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and words in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert path.read_bytes() == before


def test_report_on_a_directory_is_said_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--history", str(tmp_path), "--tz", "UTC"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "directory" in err
    assert list(tmp_path.iterdir()) == []


# -- a write that fails mid-run: nothing is lost, the screen says so ----------------------------


async def test_builds_a_failed_write_could_not_record_are_written_once_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that failed mid-run (the file locked by another process past the wait, a full
    disk, an I/O error) marked the poll's builds as written all the same: they were never
    written, not after the lock was let go nor the disk freed, and the screen said nothing."""
    monkeypatch.setattr(Store, "BUSY_TIMEOUT", 0.1)
    monkeypatch.setattr(engine_mod, "make_source", lambda config, http: Scripted(config, http))
    clock = FakeClock(NOW)
    path = tmp_path / "data" / "history.sqlite3"
    history = History.open(path, clock=clock)
    http = HttpClient(httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
                      clock=clock)  # fmt: skip
    engine = build_engine(parse_config(CONFIG), http=http, clock=clock, history=history)
    builds = tuple(red(n).model_copy(update={"source": "one", "pipeline": "p"}) for n in (1, 2, 3))
    done = Pipeline(source="one", key="p", name="one-p", recent=builds)
    source(engine, "one").script = [SourceResult(pipelines=(done,))]
    try:
        with holding(path):
            await engine.poll_source("one")
            notices = engine.snapshot().notices
            assert any(str(path) in n and "not recorded" in n for n in notices), notices
        clock.advance(30)
        await engine.poll_source("one")  # the same builds, shown again: written now
        assert len(history.recent_strip("one", "p")) == 3
        assert not any("not recorded" in n for n in engine.snapshot().notices)
    finally:
        await engine.aclose()
        history.close()


def test_a_directory_where_the_history_should_be_is_said_and_left_alone(tmp_path: Path) -> None:
    """The history ran in memory, as it should, but only the log knew: the screen, ``check``
    and ``report`` showed a radiator that would remember nothing past this run as if all was
    well."""
    path = tmp_path / "data" / "history.sqlite3"
    (path / "keep").mkdir(parents=True)
    with History.open(path, clock=FakeClock(NOW)) as store:
        assert store.record_builds([red(1)]) == 1
        assert len(store.notices) == 1
        assert str(path) in store.notices[0] and "in memory" in store.notices[0]
    assert (path / "keep").is_dir()


class _Clashing(History):
    @guarded
    def clash(self) -> None:
        """A statement SQLite refuses on a sound file (a bug of ours, say)."""
        self._db.execute("INSERT INTO pipelines (source, key) VALUES ('gh', 'twice')")
        self._db.execute("INSERT INTO pipelines (source, key) VALUES ('gh', 'twice')")


def test_an_error_that_is_no_damage_never_moves_the_file_mid_run(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with _Clashing.open(path, clock=FakeClock(NOW)) as store:
        assert store.record_builds([red(1)]) == 1
        with pytest.raises(sqlite3.IntegrityError):
            store.clash()
        assert store.notices == []
        assert len(store.recent_strip("gh", "acme/app")) == 1
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_report_on_a_history_it_cannot_open_fails_in_words_not_with_an_empty_report(
    held: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A history SQLite would not let ``report`` use (locked past the wait, read-only for
    its migration) was swapped for an empty one in memory: the report printed "unknown" for
    every measure and exited 0, a retro's numbers silently missing."""
    assert main(["report", "--history", str(held), "--tz", "UTC"]) == 2
    captured = capsys.readouterr()
    assert str(held) in captured.err and "locked" in captured.err
    assert captured.out == ""
