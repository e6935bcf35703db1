"""Argo CD applications: health, sync, the revision deployed, a sync in progress or failed.

``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers, ``apps`` what an
application says (health, deployment, repository), ``source`` the poll.
"""

from __future__ import annotations

from buildradiator.sources.argocd.config import ArgoCDSource
from buildradiator.sources.base import Provider

PROVIDER = Provider(
    "argocd", ArgoCDSource, "buildradiator.sources.argocd.source:ArgoCD", simulator="sim_argocd"
)
