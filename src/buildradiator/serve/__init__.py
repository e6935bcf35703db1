"""``buildradiator serve``: one engine for many screens over HTTP (``/snapshot.json``,
``/cc.xml``, ``/metrics``, ``/healthz``) and the radiator in a browser (``browser``), with the
limits and origin checks that keep it safe on a network. Imports the engine and the exports.
"""
