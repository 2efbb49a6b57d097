"""Weekly/daily digests: subscriptions, the schedule, the paced fan-out and the digest content.

The app calls `register(application)` once from `build_application`; everything else in this
package is reached through the handlers and jobs it installs.
"""

from __future__ import annotations

import logging

from telegram.ext import Application

log = logging.getLogger(__name__)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the digest commands, their buttons and the start-up hook that rebuilds the schedule.

    First version: a no-op placeholder so the app can already call it; the handlers land next.
    """
    log.debug("digests: register() called (handlers not installed yet)")


__all__ = ["register"]
