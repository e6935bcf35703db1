"""Named moments of the demo's story, in script seconds: what tests, screenshots and the README
point at, so that none of them hard-codes a number that the script may move.

The story is told in two acts of one loop (``scenario.SCRIPT_SECONDS``):

- **Act 1, the headline (0-300)**: main goes red after Mallory's commit and is fixed; a billing
  build goes green only on its re-run; a payments deploy is followed by 500s (a suspect deploy,
  its alert firing, a release blocker open: HOLD) until a fix goes out; the CCTray feed drops
  connections for a while. One thing at a time: the only broken windows are the headline's.
- **Act 2, the providers' own words (300-600)**: each CI's red main in turn, never more than
  two at once: Jenkins UNSTABLE and FAILURE, Buildkite, CircleCI, Buildbot, GitLab, CCTray.
"""

from __future__ import annotations

ACT_TWO = 300.0
"""Where the providers' stories begin."""

CALM = 20.0
"""Everything green; the monolith's production deploy is under way."""
MAIN_RED = 60.0
"""Mallory's c0ffee0 "Fix login flow" has turned ``acme/monolith`` red: the only broken window."""
MAIN_RED_TWICE = 110.0
"""A second red build on top (two in a row), still the only broken window."""
MAIN_FIXED = 140.0
"""Dana's revert is green: nothing is broken."""
FLAKY_RED = 155.0
"""``acme/billing``'s first attempt has just failed (its re-run is queued)."""
FLAKY_GREEN = 210.0
"""``acme/billing`` is green on attempt 2: green only after a retry."""
DEPLOY_SUSPECT = 245.0
"""payments answers 500 right after its sync went live: the service down and the deploy
suspect (two broken windows), ``PaymentsHighErrorRate`` firing, the release blocker open,
the release on HOLD."""
FIXED_FORWARD = 277.0
"""payments' fix is live and it is up again: nothing is broken."""
FEED_DOWN = 290.0
"""The CCTray feed drops every connection: its data stays, greyed, with the error."""

TWO_RED = 360.0
"""Act 2: Farid's Jenkins build UNSTABLE and Kenji's Buildkite build failed: two red mains."""
CCTRAY_RED = 395.0
"""Act 2: CCTray's ``mobile-app`` failed (its message names the breaker, mallory), alone."""
QUIET_END = 590.0
"""The last seconds of the loop: all green again before it starts over."""
