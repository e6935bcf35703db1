"""Snapshots for machines and scripts: the JSON document (its shape is defined once, in
``buildradiator.document``), the status line and tmux line, the human summary of ``status``, the
CCTray feed, the Prometheus exposition, and the snapshot cache (written by a subscriber to the
engine's snapshots). Imports the model and the rules; never the sources, the engine, textual.
"""
