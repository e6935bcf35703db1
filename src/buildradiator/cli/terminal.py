"""What the terminal can show: ASCII only, or more (``wants_ascii``), read from the locale as
the shell passed it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from buildradiator.config.loading import Config

if TYPE_CHECKING:
    pass


def wants_ascii(env: Mapping[str, str], flag: bool | None, config: Config | None) -> bool:
    """ASCII glyphs only: asked for (``--ascii``, ``[radiator] ascii``), or a locale whose
    character set is not UTF-8.

    The locale is read as the programs of a terminal read it: the first of ``LC_ALL``,
    ``LC_CTYPE``, ``LANG`` that is set and not empty, none meaning the C locale. Not from
    ``sys.stdout.encoding``: Python 3.7+ coerces the C locale to UTF-8 (PEP 538, PEP 540), so
    under ``LANG=C`` it says UTF-8 while the terminal may show nothing beyond ASCII.
    """
    if flag or (config is not None and config.radiator.ascii):
        return True
    if os.name == "nt":
        # No locale variables on Windows; its consoles take UTF-8 (PEP 528).
        return "utf" not in (sys.stdout.encoding or "").lower()
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name)
        if value:
            return not _utf8_locale(value)
    return True


_COERCED = frozenset({"C.UTF-8", "C.utf8", "UTF-8"})
"""What Python 3.7+ sets ``LC_CTYPE`` to when it coerces the C locale at start-up (PEP 538)."""


def locale_environ(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The locale variables as the shell passed them to this process.

    Python rewrites ``LC_CTYPE`` to ``C.UTF-8`` at start-up when the locale is C (PEP 538);
    that would hide ``LANG=C`` from ``wants_ascii``. Where the process's original environment
    can be read (``/proc/self/environ`` on Linux), a rewritten ``LC_CTYPE`` is put back as it
    was; elsewhere the variables are taken as they are.
    """
    env = os.environ if env is None else env
    names = {n: env[n] for n in ("LC_ALL", "LC_CTYPE", "LANG") if n in env}
    if names.get("LC_CTYPE") in _COERCED:
        try:
            raw = Path("/proc/self/environ").read_bytes()
        except OSError:
            return names
        original = dict(
            item.decode("utf-8", "replace").partition("=")[::2]
            for item in raw.split(b"\0")
            if item.startswith(b"LC_CTYPE=")
        )
        if original.get("LC_CTYPE") != names["LC_CTYPE"]:
            if "LC_CTYPE" in original:
                names["LC_CTYPE"] = original["LC_CTYPE"]
            else:
                del names["LC_CTYPE"]
    return names


def _utf8_locale(name: str) -> bool:
    """``en_US.UTF-8``, ``C.utf8``, ``de_DE.UTF-8@euro``: yes. ``C``, ``POSIX``, ``en_US``
    (its default codeset is Latin-1), ``en_US.ISO-8859-1``: no."""
    codeset = name.split("@", 1)[0].partition(".")[2]
    return codeset.lower().replace("-", "").replace("_", "") == "utf8"
