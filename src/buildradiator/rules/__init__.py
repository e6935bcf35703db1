"""The rules: pure functions from results and history to the facts every view shows (broken
windows and since when, the flaky ranking, the retry painkiller, trends, the release gate,
targets, the post-deploy watch, production rows). Ordering, roll-ups and staleness are decided
here once, never in a view. No I/O, no clock of their own; imports only the model layer.
"""
