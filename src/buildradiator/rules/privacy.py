"""``privacy = true``: no person's name leaves the radiator. Applied once, to the whole derived
snapshot, before anything shows, exports or caches it: commits and messages stay, authors go
(builds, deployments, blockers, broken windows and history's "who broke it")."""

from __future__ import annotations

from buildradiator.model import Build, Pipeline, Snapshot


def anonymous(pipeline: Pipeline) -> Pipeline:
    """The pipeline without author names: commits and messages stay."""

    def strip(builds: tuple[Build, ...]) -> tuple[Build, ...]:
        return tuple(b.model_copy(update={"author": None}) if b.author else b for b in builds)

    return pipeline.model_copy(
        update={"recent": strip(pipeline.recent), "in_flight": strip(pipeline.in_flight)}
    )


def anonymise(snapshot: Snapshot) -> Snapshot:
    """The snapshot with every author name removed."""
    return snapshot.model_copy(
        update={
            "pipelines": tuple(anonymous(p) for p in snapshot.pipelines),
            "deployments": tuple(
                d.model_copy(update={"author": None}) for d in snapshot.deployments
            ),
            "blockers": tuple(b.model_copy(update={"author": None}) for b in snapshot.blockers),
            "broken": tuple(w.model_copy(update={"author": None}) for w in snapshot.broken),
            "facts": tuple(f.model_copy(update={"broke_author": None}) for f in snapshot.facts),
        }
    )
