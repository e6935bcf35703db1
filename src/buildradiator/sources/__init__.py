"""Sources: one per API, each turning its answers into domain objects (``model``).

One folder per provider (``github/``, ``jenkins/``...): its ``__init__`` declares it once
(``PROVIDER``), ``config`` holds its ``[[sources]]`` table, ``payloads`` the API's answers,
``source`` the poll. ``catalog`` lists the declarations and derives the rest from them.

Shared by every provider: ``base`` (the ``Source``, the ``Provider`` declaration, the one request
path with its auth hook and status words), ``http`` with ``ratelimits`` and ``wire`` (the client:
redirects and credentials, ETag cache, rate budgets, body caps), ``payload`` and ``reading``
(payload types and what reading builds shares), ``production``, ``testreports``, ``flakes`` and
``xmlsafe``. A source does no scheduling, no UI and no storage, and raises only ``SourceError``.
Imports configuration and the model layer; never the engine, the views or textual.
"""
