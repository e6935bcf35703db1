"""``privacy = true`` is applied once, to the whole derived snapshot: no author anywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from buildradiator.model import (
    Blocker,
    Build,
    Deployment,
    DeployState,
    Pipeline,
    PipelineFacts,
    Snapshot,
    Status,
)
from buildradiator.rules.derive import Derivation
from buildradiator.rules.privacy import anonymise
from buildradiator.sources.catalog import parse_config

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONFIG = '[[sources]]\nname = "one"\ntype = "health"\nurl = "http://one.example/health"\n'


def raw() -> Snapshot:
    build = Build(
        source="one", pipeline="p", id="1", status=Status.FAILED, author="Mallory", commit="abc"
    )
    return Snapshot(
        taken_at=NOW,
        pipelines=(Pipeline(source="one", key="p", name="p", recent=(build,)),),
        deployments=(
            Deployment(source="one", service="api", state=DeployState.FAILED, author="Mallory"),
        ),
        blockers=(Blocker(source="one", id="#1", title="stop", author="Mallory"),),
        facts=(
            PipelineFacts(
                source="one", key="p", red_since=NOW, red_streak=2, broke_author="Mallory"
            ),
        ),
    )


def test_anonymise_removes_every_author_and_keeps_the_commits() -> None:
    snapshot = anonymise(Derivation(parse_config(CONFIG)).derive(raw(), ()))
    assert "Mallory" not in snapshot.model_dump_json()
    assert snapshot.pipelines[0].last is not None and snapshot.pipelines[0].last.commit == "abc"


def test_derive_applies_privacy_only_when_asked() -> None:
    shown = Derivation(parse_config(CONFIG)).derive(raw(), ())
    assert "Mallory" in shown.model_dump_json()
    assert [w.author for w in shown.broken] == ["Mallory"]
    private = Derivation(parse_config("[radiator]\nprivacy = true\n" + CONFIG)).derive(raw(), ())
    assert "Mallory" not in private.model_dump_json()
    assert [(w.key, w.author) for w in private.broken] == [("p", None)]
