"""The rules: pure functions from results and history to the facts every view shows (broken
windows and since when, the flaky ranking, the retry painkiller, streaks and trends, the release
gate, targets, the post-deploy watch, production rows, the verdict, privacy). Ordering, roll-ups
and staleness are decided here once (``ordering``, ``verdict``), never in a view; ``derive`` runs
them in order for the engine. No I/O, no clock of their own; imports only the model, the
configuration and the other foundation modules.
"""
