"""Release blockers: open issues with a label (GitHub, GitLab) or matching a JQL (Jira).

One ``Blocker`` per open issue that carries every configured label (GitHub, GitLab) or matches
the configured JQL (Jira). The release gate holds while any is open, so this source is built to
fail loudly rather than to under-count: a page it cannot read, a next-page link to another host,
or Jira quietly treating us as anonymous after refusing our credentials all raise a
``SourceError`` -- "no blockers" must only ever mean the tracker said so.

``config`` holds its ``[[sources]]`` table, ``payloads`` the trackers' answers, ``source`` the
poll of whichever tracker the config names.
"""

from __future__ import annotations

from buildradiator.sources.base import Provider
from buildradiator.sources.blockers.config import BlockersSource

PROVIDER = Provider(
    "blockers",
    BlockersSource,
    "buildradiator.sources.blockers.source:ReleaseBlockers",
    url_field="api_base",
    simulator="sim_tracker",
)
