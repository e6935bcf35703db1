"""Opening a link from the radiator: in a graphical browser, never in the radiator's terminal."""

from __future__ import annotations

import logging
import os
import sys
import webbrowser

log = logging.getLogger("buildradiator.ui.app")


def open_in_browser(url: str) -> bool:
    """Open ``url`` in a graphical browser; ``False`` when there is none to open it. A text
    browser (lynx, w3m...) would take over the radiator's own terminal: never one of those."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if isinstance(browser, webbrowser.GenericBrowser) and not isinstance(
        browser, webbrowser.BackgroundBrowser
    ):
        return False  # a console browser, run in the foreground: it would take the terminal
    try:
        return bool(browser.open(url))
    except Exception:
        log.warning("opening %s in a browser failed", url, exc_info=True)
        return False
