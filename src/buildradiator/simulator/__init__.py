"""The built-in demo CI: a real loopback HTTP server speaking the API shapes of GitHub Actions,
GitLab, Jenkins, Buildkite, CircleCI, Buildbot, CCTray, health endpoints and the production tools,
driven by a scripted scenario that loops every ten minutes (``scenario.py``; its moments are
named in ``moments.py``).

``buildradiator demo`` starts a ``Simulator`` in-process and points the real sources at it (with
``demo_config_text``); ``buildradiator simulate`` runs it alone with ``serve_forever``. Tests use it
as an end-to-end fixture. It never imports textual.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from buildradiator.simulator.demo_config import demo_config_text
from buildradiator.simulator.scenario import Scenario
from buildradiator.simulator.server import Simulator

__all__ = ["Scenario", "Simulator", "demo_config_text", "serve_forever"]


def serve_forever(
    port: int, host: str = "127.0.0.1", *, out: TextIO | None = None, err: TextIO | None = None
) -> None:
    """Run the simulator in the foreground until Ctrl+C.

    A config that watches it goes to ``out`` (stdout), alone, so ``simulate > demo.toml`` is a
    config; what is said to the person goes to ``err`` (stderr). Raises ``OSError`` when the
    address cannot be listened on (nothing is written then).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    simulator = Simulator(port=port, host=host)
    simulator.start()
    try:
        out.write(demo_config_text(simulator.base_url))
        out.flush()
        err.write(
            f"Simulated CI on {simulator.base_url} (Ctrl+C stops it). A config that watches it "
            "went to stdout: `buildradiator simulate > demo.toml`, then "
            "`buildradiator --config demo.toml`.\n"
        )
        err.flush()
        # Event.wait with a timeout stays interruptible by Ctrl+C on every platform.
        forever = threading.Event()
        while not forever.wait(3600):
            pass
    except KeyboardInterrupt:
        err.write("stopped\n")
    finally:
        simulator.stop()
