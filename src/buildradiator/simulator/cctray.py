"""The CCTray feed (api-facts section 6), as a Jenkins ccxml plugin or GoCD would serve it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from buildradiator.simulator.answer import Answer
from buildradiator.simulator.scenario import CCProject


def _xs_datetime(moment: datetime, utc_offset_hours: int) -> str:
    if utc_offset_hours:
        zone = timezone(timedelta(hours=utc_offset_hours))
        return moment.astimezone(zone).isoformat(timespec="milliseconds")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cctray_xml(projects: list[CCProject], web: str) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<Projects>"]
    for project in projects:
        attributes = [
            ("name", project.name),
            ("activity", project.activity),
            ("lastBuildStatus", project.last_build_status),
            ("lastBuildLabel", project.last_build_label),
            ("lastBuildTime", _xs_datetime(project.last_build_time, project.utc_offset_hours)),
        ]
        if project.next_build_time is not None:
            attributes.append(
                ("nextBuildTime", _xs_datetime(project.next_build_time, project.utc_offset_hours))
            )
        attributes.append(("webUrl", f"{web}/cctray/{quote(project.name, safe='')}"))
        attributes.extend(project.extra)
        opening = "  <Project " + " ".join(f"{k}={quoteattr(v)}" for k, v in attributes)
        if not project.messages:
            lines.append(opening + " />")
            continue
        lines.append(opening + ">")
        lines.append("    <messages>")
        for kind, text in project.messages:
            lines.append(f"      <message text={quoteattr(text)} kind={quoteattr(kind)} />")
        lines.append("    </messages>")
        lines.append("  </Project>")
    lines.append("</Projects>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def cctray_answer(projects: list[CCProject] | None, web: str) -> Answer:
    if projects is None:
        return Answer(0, drop=True)
    return Answer(
        200, cctray_xml(projects, web), [("Content-Type", "application/xml; charset=utf-8")]
    )
