"""The snapshot's document is defined once (``buildradiator.document``): what a radiator writes
is what another radiator's reading models read, key for key, and the sections written from a
model are read back into that very model."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from buildradiator import document
from buildradiator.export.document import to_json
from buildradiator.model import (
    Blocker,
    Deployment,
    DeployState,
    FlakyTestInfo,
    ServiceCheck,
    Snapshot,
)
from buildradiator.rules.verdict import overall
from buildradiator.sources.radiator.fields import read_as
from snapshot_fixtures import red_estate

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("pipelines", document.PipelineDoc),
    ("services", ServiceCheck),
    ("deployments", Deployment),
    ("blockers", Blocker),
    ("flaky_tests", document.FlakyTestDoc),
    ("sources", document.SourceDoc),
]


def estate() -> Snapshot:
    """The red estate with one of everything the document has a section for."""
    snapshot = red_estate()
    at = snapshot.taken_at
    return snapshot.model_copy(
        update={
            "deployments": (
                Deployment(source="gh", service="api", state=DeployState.SUCCEEDED, revision="a1"),
            ),
            "blockers": (Blocker(source="gh", id="#7", title="stop the line", opened_at=at),),
            "flaky_tests": (
                FlakyTestInfo(
                    classname="PaymentTest",
                    name="refunds",
                    times_flaked=3,
                    retried_builds=1,
                    lost_seconds=60.0,
                    first_seen=at,
                    last_seen=at,
                    pipelines=("gh:acme/monolith",),
                ),
            ),
        }
    )


@pytest.fixture(scope="module")
def written() -> dict[str, object]:
    return json.loads(to_json(estate()))


def test_the_sections_read_are_the_sections_written(written: dict[str, object]) -> None:
    assert set(document.SECTIONS) == {name for name, _ in SECTIONS}
    assert set(document.SECTIONS) <= set(written)
    assert written["schema"] == document.SCHEMA_VERSION


@pytest.mark.parametrize("section,model", SECTIONS, ids=[name for name, _ in SECTIONS])
def test_every_key_a_reader_reads_is_written(
    written: dict[str, object], section: str, model: type[BaseModel]
) -> None:
    entries = written[section]
    assert isinstance(entries, list) and entries, f"the estate has no {section}"
    for entry in entries:
        assert set(model.model_fields) <= set(entry), set(model.model_fields) - set(entry)
        read_as(model, entry)


@pytest.mark.parametrize("section", ["services", "deployments", "blockers"])
def test_a_section_written_from_a_model_reads_back_as_the_same_objects(
    written: dict[str, object], section: str
) -> None:
    snapshot = estate()
    model = {"services": ServiceCheck, "deployments": Deployment, "blockers": Blocker}[section]
    entries = written[section]
    assert isinstance(entries, list)
    back = [read_as(model, entry) for entry in entries]
    originals = list(getattr(snapshot, section))
    if section == "services":
        # The document names every check's service, its own name where it has none.
        originals = [c.model_copy(update={"service": c.service_name}) for c in originals]
    assert back == originals


def test_every_key_a_build_reader_reads_is_written(written: dict[str, object]) -> None:
    pipelines = written["pipelines"]
    assert isinstance(pipelines, list)
    builds = [b for p in pipelines for b in (*p["recent"], *p["in_flight"])]
    assert builds
    for build in builds:
        assert set(document.BuildDoc.model_fields) <= set(build)


def test_the_verdict_is_the_rules_and_the_cache_round_trips() -> None:
    snapshot = estate()
    assert json.loads(to_json(snapshot))["overall"] == overall(snapshot)
    back = document.from_cache_bytes(document.cache_bytes(snapshot))
    assert isinstance(back, Snapshot) and back == snapshot
