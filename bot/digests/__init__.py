"""Weekly/daily digests: subscriptions, the schedule, the paced fan-out and the digest content.

The app calls `register(application)` once from `build_application`; everything else in this
package is reached through the handlers and jobs it installs.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

COMMANDS: list[tuple[str, str]] = [
    ("subscribe", "Đăng ký bản tin định kỳ (tuần/ngày)"),
    ("unsubscribe", "Hủy đăng ký bản tin"),
    ("settings", "Xem và đổi lịch nhận bản tin"),
    ("digest", "Bản tin các báo cáo 7 ngày qua"),
]
BUTTON_PATTERN = r"^dg:"


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the digest commands, the /settings buttons, the command-menu entries and the jobs
    (start-up catch-up and schedule rebuild, periodic sweep)."""
    from bot.digests import handlers
    from bot.digests.jobs import install_jobs

    application.add_handler(CommandHandler("subscribe", handlers.cmd_subscribe))
    application.add_handler(CommandHandler("unsubscribe", handlers.cmd_unsubscribe))
    application.add_handler(CommandHandler("settings", handlers.cmd_settings))
    application.add_handler(CommandHandler("digest", handlers.cmd_digest))
    application.add_handler(CallbackQueryHandler(handlers.on_settings_button, pattern=BUTTON_PATTERN))
    extra = application.bot_data.setdefault("extra_commands", [])
    extra.extend(c for c in COMMANDS if c not in extra)
    install_jobs(application)


__all__ = ["COMMANDS", "register"]
