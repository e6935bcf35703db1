"""Snapshots for machines and scripts: the JSON document (its shape is defined here once), the
status line and tmux line, the human summary of ``status``, the CCTray feed, the Prometheus
exposition, and the snapshot cache. Imports the model and the rules; never textual.
"""
