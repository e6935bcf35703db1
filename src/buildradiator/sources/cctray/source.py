"""CCTray XML feeds: Jenkins (ccxml plugin), GoCD, TeamCity, Buildkite's cc feed, and friends.

The format is tiny (api-facts section 6) but every server speaks its own dialect of it, so the
parser is deliberately forgiving: element and attribute names and enum values are matched
case-insensitively, unknown attributes and child elements (GoCD's ``<messages>``) are ignored, a
``<Project>`` without a name is skipped rather than failing the whole feed, and ``lastBuildTime``
is read in every shape seen in the wild (``Z``, ``+00:00``, TeamCity's ``+0000``, no offset at
all, fractions of any length) -- or left unknown when it is garbage.

A feed only tells the result of the *last* build and whether one is running now, so each project
becomes a ``Pipeline`` with at most one recent build and at most one build in flight.
"""

from __future__ import annotations

import re
from datetime import datetime
from fnmatch import fnmatchcase
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from buildradiator.errors import BadPayload
from buildradiator.model import Build, Pipeline, SourceResult, Status
from buildradiator.sources.base import XML, Source, parse_iso, safe_url
from buildradiator.sources.cctray import PROVIDER
from buildradiator.sources.cctray.config import CCTraySource
from buildradiator.sources.xmlsafe import local_name, parse_xml
from buildradiator.text import clean_text

_LAST_STATUS = {
    "success": Status.PASSED,
    "failure": Status.FAILED,
    "exception": Status.FAILED,
}
_ACTIVITY = {
    "building": Status.RUNNING,
    "pending": Status.QUEUED,
}
_ASCII_INT = re.compile(r"\d{1,18}", re.ASCII)


class CCTray(Source[CCTraySource]):
    """One CCTray feed: one pipeline per ``<Project>`` (filtered by ``projects`` globs)."""

    provider = PROVIDER
    accept = XML

    def _auth_headers(self) -> dict[str, str]:
        return self._basic_or_bearer(self.config.username)

    async def poll(self) -> SourceResult:
        response = await self._get(self.config.url, what="the feed")
        # Only the host names the feed in messages: the URL may carry ?access_token=...
        host = urlsplit(self.config.url).hostname or "the feed"
        root = parse_xml(response.content, what=f"cc.xml from {host}")
        return self.parse(root, host)

    def parse(self, root: Element, host: str) -> SourceResult:
        if local_name(root.tag).lower() != "projects":
            raise BadPayload(
                f"cc.xml from {host} is not a CCTray feed "
                f"(root element <{clean_text(local_name(root.tag), 40)}>, expected <Projects>)"
            )
        pipelines: list[Pipeline] = []
        seen: set[str] = set()
        in_feed = 0
        for element in root:
            if not isinstance(element.tag, str) or local_name(element.tag).lower() != "project":
                continue
            attrs = {local_name(k).lower(): v for k, v in element.attrib.items()}
            name = clean_text(attrs.get("name", ""))
            if not name:
                continue
            in_feed += 1
            # Duplicate names would break the key's uniqueness; the first one wins.
            if name in seen or not self._wanted(name):
                continue
            seen.add(name)
            pipelines.append(self._pipeline(name, attrs))
        return SourceResult(pipelines=tuple(pipelines), summary=self._summary(pipelines, in_feed))

    def _wanted(self, name: str) -> bool:
        patterns = self.config.projects
        return not patterns or any(fnmatchcase(name, pattern) for pattern in patterns)

    def _pipeline(self, name: str, attrs: dict[str, str]) -> Pipeline:
        url = _web_url(attrs.get("weburl"))
        label = clean_text(attrs.get("lastbuildlabel", ""), 100)
        word = attrs.get("lastbuildstatus", "").strip()
        recent = Build(
            source=self.name,
            pipeline=name,
            id=label or "last",
            number=int(label) if _ASCII_INT.fullmatch(label) else None,
            status=_LAST_STATUS.get(word.lower(), Status.UNKNOWN),
            provider_status=word or None,
            finished_at=parse_cctray_time(attrs.get("lastbuildtime")),
            url=url,
        )
        activity = attrs.get("activity", "").strip()
        flying = _ACTIVITY.get(activity.lower())
        in_flight: tuple[Build, ...] = ()
        if flying is not None:
            # The feed does not say when the build started or which stage runs; it does not name
            # the new build either, so the id only has to differ from the last one's.
            in_flight = (
                Build(
                    source=self.name,
                    pipeline=name,
                    id=f"{activity.lower()}-after-{label or 'last'}",
                    status=flying,
                    provider_status=activity,
                    url=url,
                ),
            )
        return Pipeline(
            source=self.name,
            key=name,
            name=name,
            url=url,
            recent=(recent,),
            in_flight=in_flight,
        )

    def _summary(self, pipelines: list[Pipeline], in_feed: int) -> str:
        count = len(pipelines)
        building = sum(1 for p in pipelines for b in p.in_flight if b.status is Status.RUNNING)
        queued = sum(1 for p in pipelines for b in p.in_flight if b.status is Status.QUEUED)
        failing = sum(1 for p in pipelines if p.status is Status.FAILED)
        text = f"{count} project{'' if count == 1 else 's'}"
        if self.config.projects and count != in_feed:
            text += f" (of {in_feed} in the feed)"
        text += f", {building} building"
        if queued:
            text += f", {queued} queued"
        return text + f", {failing} failing"


def parse_cctray_time(value: str | None) -> datetime | None:
    """``lastBuildTime`` in any dialect seen in the wild; ``None`` when it is not a time."""
    # Python 3.11's fromisoformat (under parse_iso) already reads TeamCity's "+0000", decimal
    # commas and the basic format; parse_iso adds "Z", long fractions and naive-means-UTC.
    try:
        return parse_iso(value)
    except (ValueError, OverflowError):
        return None


def _web_url(value: str | None) -> str | None:
    """The project's page, if it is a plain http(s) URL (it may end up as a terminal link)."""
    return safe_url(value)
