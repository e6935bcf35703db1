"""The Textual radiator: the app, one screen per mode, widgets that only render snapshots,
themes, and what the app drives (escalation, desktop notifications, hooks, claims). The only
part of the package that imports textual (with ``serve.browser``).
"""
