"""The engine: schedules every source, keeps the last good data and its freshness, and publishes
immutable snapshots. It writes no files and derives nothing itself: the rules (a deriver), history
(a recorder) and the cache (a subscriber) are handed to it (``engine.ports``), wired by
``assemble.build_engine``.

May import configuration and sources; never rules, history, exports or the views (``serve``,
``ui``), and never textual.
"""
