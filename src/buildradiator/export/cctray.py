"""The aggregate as a CCTray feed (``/cc.xml``): one ``<Project>`` per pipeline the radiator
watches, so CCMenu, nevergreen and BuildNotify users subscribe to everything it knows.

CCTray is about builds, so only pipelines are listed: production checks, deployments and
targets have no place in the format (they are in ``/metrics`` and ``/snapshot.json``). A group
is not a project of its own: its members are listed one by one (``category`` names the group,
as TeamCity's feed does).

The mapping (api-facts section 6):

- ``activity``: ``Building`` while the pipeline has a build in flight (running or queued: the
  format has no word for queued that clients agree on), else ``Sleeping``.
  ``CheckingModifications`` is never sent: the radiator does not know it.
- ``lastBuildStatus``: passed ``Success``, failed ``Failure``. Canceled is ``Unknown``, not
  ``Exception``: clients show ``Exception`` as broken, and a canceled build says nothing about
  whether main is broken. Unknown is ``Unknown``.
- Stale is never green: on a stale source's data (failing, too old, waiting, the last run's
  cache) a pipeline is ``Unknown`` and ``Sleeping`` unless it was red (``Failure`` stays:
  ``rules.ordering.result_shown``). CCMenu, nevergreen and BuildNotify read no other attribute,
  so a stale ``Success`` would be a green light for a build nobody has seen for an hour.
- ``lastBuildLabel``: the build number, else the provider's id.
- ``lastBuildTime``: when the last build finished (else started, else was created), in
  xs:dateTime with its offset, whole seconds (some clients choke on fractions).
- ``webUrl``: the last build's page, else the pipeline's, redacted (never a token) and only
  when it is a plain http(s) URL.
- ``stale="true"`` as well, for the clients (and radiators) that read it. Clients must
  tolerate extra attributes; the document stays namespace-free.

An attribute the snapshot does not know (a pipeline that never built has no time, label or
maybe URL) is left out rather than invented. Names must be unique in a feed (clients key on
them): a name two pipelines share is prefixed with its source (``gh: monolith``).

Everything is written with ElementTree, which escapes quotes, ``<`` and ``&``; text from CI is
also cleaned of control characters (not every field of the model is ``Untrusted``), which XML
1.0 cannot carry even escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime

from buildradiator.model import Build, Pipeline, Snapshot, Status
from buildradiator.rules.ordering import result_shown
from buildradiator.text import clean_text
from buildradiator.urls import redact, safe_url

CONTENT_TYPE = "application/xml; charset=utf-8"

_LAST_BUILD_STATUS = {
    Status.PASSED: "Success",
    Status.FAILED: "Failure",
}


def cc_xml(snapshot: Snapshot) -> bytes:
    """The snapshot's pipelines as a CCTray ``<Projects>`` document, UTF-8 encoded."""
    root = ET.Element("Projects")
    names = project_names(snapshot.pipelines)
    for pipeline, name in zip(snapshot.pipelines, names, strict=True):
        root.append(_project(pipeline, name, stale=pipeline.source in snapshot.stale_sources))
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def project_names(pipelines: tuple[Pipeline, ...]) -> list[str]:
    """One unique name per pipeline, in order: its own name where no other pipeline shares it,
    else ``source: name``, else ``source: key`` (two branches of one pipeline in one source),
    and as a last resort a ``#2``-style suffix so that no client ever sees a duplicate."""
    own = [_text(p.name) or _text(p.key) or "unnamed" for p in pipelines]
    counts = Counter(own)
    names = [
        n if counts[n] == 1 else f"{_text(p.source)}: {n}"
        for p, n in zip(pipelines, own, strict=True)
    ]
    counts = Counter(names)
    names = [
        n if counts[n] == 1 else f"{_text(p.source)}: {_text(p.key) or n}"
        for p, n in zip(pipelines, names, strict=True)
    ]
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name} #{n}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _project(pipeline: Pipeline, name: str, *, stale: bool) -> ET.Element:
    last = pipeline.last
    shown = result_shown(pipeline, frozenset({pipeline.source}) if stale else frozenset())
    attrs: dict[str, str] = {
        "name": name,
        "activity": "Building" if pipeline.in_flight and not stale else "Sleeping",
        "lastBuildStatus": _LAST_BUILD_STATUS.get(shown, "Unknown") if shown else "Unknown",
    }
    if last is not None:
        attrs["lastBuildLabel"] = _text(str(last.number) if last.number is not None else last.id)
        when = _build_time(last)
        if when is not None:
            attrs["lastBuildTime"] = when
    url = _web_url(last.url if last is not None else None) or _web_url(pipeline.url)
    if url is not None:
        attrs["webUrl"] = url
    if pipeline.group:
        attrs["category"] = _text(pipeline.group)
    if stale:
        attrs["stale"] = "true"
    # Empty values would be worse than none: a client would show an empty label or link.
    return ET.Element("Project", {k: v for k, v in attrs.items() if v})


def _build_time(build: Build) -> str | None:
    when: datetime | None = build.finished_at or build.started_at or build.created_at
    return when.isoformat(timespec="seconds") if when is not None else None


def _web_url(url: str | None) -> str | None:
    return safe_url(redact(url)) if url else None


def _text(value: str) -> str:
    return clean_text(value)
