"""The engine: schedules every source, keeps the last good data and its freshness, records
finished builds in history, and publishes immutable snapshots. It writes no files of its own.

May import configuration, sources, history and rules; never the views (``export``, ``serve``,
``ui``) and never textual.
"""
