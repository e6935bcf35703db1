"""Sources: one per API, each turning its answers into domain objects (``model``).

``base`` and ``http`` are the one request path every provider shares; ``catalog`` declares the
providers. A source does no scheduling, no UI and no storage, and raises only ``SourceError``.
Imports configuration and the model layer; never the engine, the views or textual.
"""
