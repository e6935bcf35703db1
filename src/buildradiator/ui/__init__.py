"""The Textual radiator: the app (``app``, thin), one screen per mode (``screens``), widgets that
only render snapshots, themes, and what the app drives (escalation, desktop notifications,
hooks, claims). ``options`` is the typed ``RadiatorOptions`` the app is built from, and
``launch.run_radiator`` wires an engine to it (for ``cli`` and ``serve.browser``). The only
part of the package that imports textual (with ``serve.browser``); ``options`` does not.
"""
