"""Claims: stored atomically, expire, clear when green, survive a corrupt file."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from buildradiator.clock import FakeClock
from buildradiator.model import BrokenWindow, Build, Pipeline, Snapshot, SourceState, Status
from buildradiator.paths import get_paths
from buildradiator.ui import claims as claims_module
from buildradiator.ui.claims import ClaimStore, claims_path, default_name

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def pipeline(key: str, status: Status) -> Pipeline:
    build = Build(source="gh", pipeline=key, id="1", status=status, finished_at=T0)
    return Pipeline(source="gh", key=key, name=key, recent=(build,))


def window(key: str) -> BrokenWindow:
    return BrokenWindow(kind="pipeline", source="gh", key=key, name=key, since=T0)


def snapshot(
    red: tuple[str, ...] = (), green: tuple[str, ...] = (), stale: bool = False
) -> Snapshot:
    return Snapshot(
        taken_at=T0,
        pipelines=tuple(pipeline(k, Status.FAILED) for k in red)
        + tuple(pipeline(k, Status.PASSED) for k in green),
        sources=(SourceState(name="gh", type="github", last_success=T0, stale=stale),),
        broken=tuple(window(k).model_copy(update={"stale": stale}) for k in red),
        stale_sources=frozenset({"gh"}) if stale else frozenset(),
    )


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> ClaimStore:
    return ClaimStore(tmp_path / "data" / "claims.json", clock, expire_hours=24)


def test_claim_is_stored_and_read_back(store: ClaimStore, clock: FakeClock) -> None:
    claim = store.claim("gh", "acme/monolith", "Alice", "bisecting")
    assert (claim.who, claim.note, claim.at) == ("Alice", "bisecting", clock.now())
    assert store.get("gh", "acme/monolith") == claim
    data = json.loads(store.path.read_text())
    assert data["version"] == 1
    assert data["claims"] == [
        {
            "source": "gh",
            "key": "acme/monolith",
            "who": "Alice",
            "note": "bisecting",
            "at": "2026-11-26T12:00:00+00:00",
        }
    ]
    # A restart (or a second radiator) sees it.
    again = ClaimStore(store.path, clock, expire_hours=24)
    assert again.active() == (claim,)
    # No temp files left behind by the atomic write.
    assert [p.name for p in store.path.parent.iterdir()] == ["claims.json"]


def test_reclaim_replaces_and_release_removes(store: ClaimStore, clock: FakeClock) -> None:
    store.claim("gh", "acme/monolith", "Alice")
    clock.advance(60)
    store.claim("gh", "acme/monolith", "Bob", "mine now")
    [claim] = store.active()
    assert claim.who == "Bob"
    assert store.release("gh", "acme/monolith") is True
    assert store.release("gh", "acme/monolith") is False
    assert store.active() == ()
    assert json.loads(store.path.read_text())["claims"] == []


def test_claims_expire(store: ClaimStore, clock: FakeClock) -> None:
    store.claim("gh", "acme/monolith", "Alice")
    clock.advance(24 * 3600 - 1)
    assert len(store.active()) == 1
    clock.advance(1)
    assert store.active() == () and store.get("gh", "acme/monolith") is None
    # prune drops it from the file too, even while the pipeline is still red.
    [dropped] = store.prune(snapshot(red=("acme/monolith",)))
    assert dropped.who == "Alice"
    assert json.loads(store.path.read_text())["claims"] == []


def test_expiry_follows_the_configured_hours(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "claims.json"
    ClaimStore(path, clock, expire_hours=24).claim("gh", "a", "Alice")
    short = ClaimStore(path, clock, expire_hours=1)
    clock.advance(3601)
    assert short.active() == ()


def test_claim_clears_when_the_pipeline_turns_green(store: ClaimStore) -> None:
    store.claim("gh", "acme/monolith", "Alice")
    store.claim("gh", "acme/web", "Bob")
    assert store.prune(snapshot(red=("acme/monolith", "acme/web"))) == []
    [dropped] = store.prune(snapshot(red=("acme/web",), green=("acme/monolith",)))
    assert dropped.key == "acme/monolith"
    assert [c.key for c in store.active()] == ["acme/web"]


def test_prune_keeps_claims_without_evidence(store: ClaimStore) -> None:
    store.claim("gh", "acme/monolith", "Alice")
    # Start-up: the source has not answered, the pipeline is not listed at all.
    assert store.prune(Snapshot(taken_at=T0)) == []
    # Stale data cannot say it is green.
    assert store.prune(snapshot(green=("acme/monolith",), stale=True)) == []
    assert len(store.active()) == 1


def test_text_is_kept_plain(store: ClaimStore, monkeypatch: pytest.MonkeyPatch) -> None:
    claim = store.claim(
        "gh", "a", "Al\x1b[31mice\x07", "see \x1b]8;;http://x\x07here\x1b]8;;\x07\nnow"
    )
    assert claim.who == "Alice"
    assert claim.note == "see here now"
    assert len(store.claim("gh", "b", "x", "n" * 5000).note) == 200
    monkeypatch.setattr(claims_module.getpass, "getuser", lambda: "carol")
    assert store.claim("gh", "c", "  \x1b[0m ").who == "carol"


def test_default_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims_module.getpass, "getuser", lambda: "alice")
    assert default_name() == "alice"

    def no_user() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(claims_module.getpass, "getuser", no_user)
    assert default_name() == "someone"
    monkeypatch.setattr(claims_module.getpass, "getuser", lambda: "\x1b[31m")
    assert default_name() == "someone"


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"version": 1, "claims": [{"source": "gh"',  # truncated
        b'["a", "list"]',
        b'{"version": 1, "claims": [{"source": "gh", "key": "a", "who": "x", "at": "yesterday"}]}',
        b'{"version": 1, "claims": [{"source": "gh", "key": "a", "who": "x", "at": "2026-11-26T12:00:00"}]}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_a_corrupt_file_is_moved_aside(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    path = tmp_path / "claims.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        store = ClaimStore(path, clock)
    assert store.active() == ()
    assert store.warning is not None and "moved to" in store.warning
    assert "moved to" in caplog.text
    assert (tmp_path / "claims.json.corrupt").read_bytes() == content
    assert not path.exists()
    store.claim("gh", "a", "Alice")
    assert len(ClaimStore(path, clock).active()) == 1


def test_extra_fields_are_ignored(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "claims.json"
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "future": True,
                "claims": [
                    {
                        "source": "gh",
                        "key": "a",
                        "who": "x",
                        "at": "2026-11-26T13:00:00+01:00",
                        "x": 1,
                    }
                ],
            }
        )
    )
    [claim] = ClaimStore(path, clock).active()
    assert claim.at == T0 and claim.note == ""


def test_two_radiators_do_not_drop_each_others_claims(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "claims.json"
    wall, pane = ClaimStore(path, clock), ClaimStore(path, clock)
    wall.claim("gh", "a", "Alice")
    pane.claim("gh", "b", "Bob")
    assert {c.key for c in ClaimStore(path, clock).active()} == {"a", "b"}


def test_an_unwritable_place_warns_and_keeps_working(tmp_path: Path, clock: FakeClock) -> None:
    # A file where the data dir should be: saving fails (for root too, unlike a chmod).
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    store = ClaimStore(blocker / "claims.json", clock)
    claim = store.claim("gh", "a", "Alice")
    assert store.active() == (claim,)
    assert store.warning is not None and "cannot save claims" in store.warning
    assert blocker.read_text() == "not a directory"


def test_default_path_is_in_the_data_dir(clock: FakeClock) -> None:
    assert claims_path() == get_paths().data_dir / "claims.json"
    store = ClaimStore(clock=clock)
    store.claim("gh", "a", "Alice")
    assert (get_paths().data_dir / "claims.json").exists()
