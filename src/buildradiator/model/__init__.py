"""The domain objects: what sources produce and what the views show.

Everything here is immutable. A ``Snapshot`` is the whole state at one moment; the engine builds a
new one whenever anything changes and the views only ever read it.

Text that comes from CI (commit messages, names, branches) is typed ``Untrusted``: on the way in
it loses what ``text.scrub`` removes (escape sequences, controls, invisible and bidi characters,
surrogates, noncharacters) and overlong tails; identifiers are typed ``Key`` (scrubbed, whole). It is still *text*: the views must show it with ``rich.text.Text``
and never as markup.

Its parts: ``values`` (what a server's value may be), ``builds`` (CI), ``production`` (checks,
deployments, blockers), ``facts`` (what history knows), ``snapshot`` (the whole state). Import
from here.
"""

from __future__ import annotations

from buildradiator.model.builds import (
    Build,
    Pipeline,
    ReportedFlake,
    Status,
    TestResult,
    TestRun,
    TestStatus,
)
from buildradiator.model.facts import (
    DeliveryFact,
    Facts,
    FlakySummary,
    FlakyTestInfo,
    PipelineFacts,
    TargetStatus,
)
from buildradiator.model.production import (
    Blocker,
    Deployment,
    DeployState,
    Health,
    ServiceCheck,
)
from buildradiator.model.snapshot import (
    BrokenWindow,
    Freshness,
    GateReason,
    RateInfo,
    ReleaseGate,
    Snapshot,
    SourceResult,
    SourceState,
)
from buildradiator.model.values import (
    EARLIEST,
    LATEST,
    MAX_SECONDS,
    Frozen,
    Key,
    Link,
    Moment,
    Seconds,
    Untrusted,
    first_line,
)

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_SECONDS",
    "Blocker",
    "BrokenWindow",
    "Build",
    "DeliveryFact",
    "DeployState",
    "Deployment",
    "Facts",
    "FlakySummary",
    "FlakyTestInfo",
    "Freshness",
    "Frozen",
    "GateReason",
    "Health",
    "Key",
    "Link",
    "Moment",
    "Pipeline",
    "PipelineFacts",
    "RateInfo",
    "ReleaseGate",
    "ReportedFlake",
    "Seconds",
    "ServiceCheck",
    "Snapshot",
    "SourceResult",
    "SourceState",
    "Status",
    "TargetStatus",
    "TestResult",
    "TestRun",
    "TestStatus",
    "Untrusted",
    "first_line",
]
