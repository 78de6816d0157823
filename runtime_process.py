"""Running the built app as a process: `run` serves until a signal, `once` polls one cycle."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING

from inbox.cards import CardsPort, CardUnavailable
from inbox.cycle import run_cycle
from inbox.health import cycle_problem
from store import drafts

if TYPE_CHECKING:
    from runtime import Runtime

logger = logging.getLogger(__name__)


class StartFailed(Exception):
    """The app cannot start; the message says why and what to do, on one line."""


def run(runtime: Runtime) -> int:
    """Poll and serve Slack until SIGTERM or Ctrl-C, then finish the clicks and the cycle in progress."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        runtime.start()
    except StartFailed as exc:
        runtime.stop()
        print(exc, file=sys.stderr)
        return 2
    stopping.wait()
    logger.info("Stopping: finishing the clicks and the cycle in progress")
    runtime.stop()
    return 0


def once(runtime: Runtime) -> int:
    """One cycle; 1 with one line when it failed for a reason the operator must fix, or was stopped.

    No recover(): a `run` process may be serving clicks on the same database, and a send it has just
    claimed is not a crash's leftover; the cycle settles `sending` drafts once they are stale. SIGTERM or
    Ctrl-C lets the cycle end at a safe point: no new card goes to Slack, the ones due wait for the next
    cycle, and every step already taken is recorded (each is one transaction)."""
    stopped: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        if not stopped:
            stopped.append(signal.Signals(signum).name)
            logger.warning("Stopping (%s): no new cards; the cycle ends at its next safe point", stopped[0])
            runtime.services.cards.port = _Stopping(runtime.services.cards.port)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        report = run_cycle(runtime.services, max_posts=runtime.settings.slack_max_posts_per_cycle)
    except Exception as exc:
        problem = cycle_problem(exc, runtime.token)
        if problem is None:
            raise
        print(problem, file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(report.summary())
    if stopped:
        print(
            f"Stopped by {stopped[0]} before the cycle was done: what it did is recorded, and the cards not "
            "yet in Slack go out with the next cycle.",
            file=sys.stderr,
        )
        return 1
    return 0


class _Stopping:
    """The cards port once `once` is asked to stop: cards stay due (as when Slack is away), none is half-sent."""

    def __init__(self, port: CardsPort):
        self._port = port

    def post(self, draft: drafts.Draft) -> tuple[str, str]:
        raise CardUnavailable("stopping")

    def update(self, draft: drafts.Draft) -> None:
        raise CardUnavailable("stopping")

    def notify(self, draft: drafts.Draft, user: str, text: str) -> None:
        self._port.notify(draft, user, text)
