"""Running the radiator: the engine, its history and cache, and the app the options describe.

Called by ``cli`` (``run``, ``demo``, ``view``) and by a browser session (``serve.browser``),
each with a ``RadiatorOptions``; logging is the caller's (the command line sends it to a file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buildradiator.config.loading import Config
from buildradiator.errors import EXIT_INTERNAL
from buildradiator.paths import get_paths
from buildradiator.ui.options import RadiatorOptions

if TYPE_CHECKING:
    from buildradiator.history import History


def run_radiator(
    config: Config,
    options: RadiatorOptions,
    *,
    use_cache: bool = True,
    history: History | None = None,
) -> int:
    """Run the Textual radiator until it is quit; its exit code. ``history`` defaults to the
    store in the data dir; without ``use_cache`` no cache is read or written and claims stay in
    the app's private temp dir."""
    from buildradiator.assemble import build_engine
    from buildradiator.clock import Clock
    from buildradiator.export.cache import cache_file, read_cache
    from buildradiator.ui.alerts import Escalation
    from buildradiator.ui.app import BuildRadiatorApp
    from buildradiator.ui.claims import ClaimStore
    from buildradiator.ui.hooks import HookRunner, secret_variables

    # The demo's simulator starts afresh every time: no cache to show or keep for it.
    cache = cache_file(get_paths().cache_dir, config.path) if use_cache else None
    from buildradiator.history import History

    store = (
        history
        if history is not None
        else History.open(get_paths().history_db, retention_days=config.radiator.history_days)
    )
    engine = build_engine(config, cache_path=cache, history=store)
    cached = read_cache(cache) if cache else None
    if cached is not None:
        # The last known state shows at once (marked stale by its age) until fresh data arrives.
        engine.seed(cached)
    clock = Clock()
    escalation = Escalation(config.alerts, privacy=config.radiator.privacy)
    # The app toasts hooks that fail or time out (it sets on_result itself).
    hooks = HookRunner(config.hooks, clock, secret_env=secret_variables(config))
    # The demo's pipelines are make-believe: its claims stay in the app's private temp dir.
    claims = (
        ClaimStore(get_paths().data_dir / "claims.json", clock, config.claims.expire_hours)
        if use_cache
        else None
    )
    app = BuildRadiatorApp(
        engine,
        options=options,
        clock=clock,
        escalation=escalation,
        hooks=hooks,
        claims=claims,
    )
    try:
        result = app.run()
    finally:
        store.close()
    # An app that died of an error returns nothing but sets its return code: a process that
    # dies must not exit 0 (a wrapper script would read that as a clean stop).
    if app.return_code:
        return EXIT_INTERNAL if app.return_code == 1 and result is None else app.return_code
    return int(result or 0)
