"""The built-in demo CI: a real loopback HTTP server speaking GitHub Actions, CCTray and health
endpoint shapes, driven by a scripted scenario that loops every few minutes.

``buildradiator demo`` starts a ``Simulator`` in-process and points the real sources at it (with
``demo_config_text``); ``buildradiator simulate`` runs it alone with ``serve_forever``. Tests use it
as an end-to-end fixture. It never imports textual.
"""

from __future__ import annotations

import sys
import threading

from buildradiator.simulator.demo_config import demo_config_text
from buildradiator.simulator.scenario import Scenario
from buildradiator.simulator.server import Simulator

__all__ = ["Scenario", "Simulator", "demo_config_text", "serve_forever"]


def serve_forever(port: int, host: str = "127.0.0.1") -> None:
    """Run the simulator in the foreground until Ctrl+C, printing a config that uses it."""
    simulator = Simulator(port=port, host=host)
    simulator.start()
    try:
        print(f"buildradiator simulator listening on {simulator.base_url} (Ctrl+C to stop)")
        print("A config that watches it:\n")
        print(demo_config_text(simulator.base_url), flush=True)
        # Event.wait with a timeout stays interruptible by Ctrl+C on every platform.
        forever = threading.Event()
        while not forever.wait(3600):
            pass
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        simulator.stop()
