"""`python app.py demo`: the real app against local stand-ins of Fanvue and Slack, with a team clicking."""

from __future__ import annotations

import logging

from demo.stage import DemoFailed, stage
from demo.story import EXPECTED_SENT, print_audit, summary, walk

__all__ = ["main"]

# The one line of the output that differs between the modes.
MODE_LINES = {
    False: "Mode: HTTP (signed requests to /slack/events).",
    True: "Mode: Socket Mode (envelopes over the WebSocket the app opens with its app-level token).",
}


def main(socket_mode: bool = False) -> int:
    """Run the walk-through and print it; 0 when every expectation held, 1 with the reason when one did not.

    The walk-through is the same in both modes: only how Slack delivers the team's clicks differs."""
    # Only warnings and errors: the walk-through itself is the output.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    failure = None
    print(
        "Offline demo: the real app against a local Fanvue sandbox and a Slack stand-in on 127.0.0.1;\n"
        "no settings needed, nothing leaves this machine. Alice, Bob, Carol and Dana are the team; their\n"
        "clicks reach the app as Slack sends them, and each card is shown as Slack would show it.\n"
        "Two creators are served, each with its own channel (a desk file)."
    )
    print(MODE_LINES[socket_mode] + "\n")
    with stage(socket_mode=socket_mode) as st:
        try:
            walk(st, print)
        except DemoFailed as exc:
            failure = str(exc)
        print_audit(st, print)
        line, sent = summary(st)
        print("\n" + line)
    if failure is None and sent != EXPECTED_SENT:
        failure = f"{sent} messages reached Fanvue, expected {EXPECTED_SENT}"
    if failure:
        print(f"DEMO FAILED: {failure}")
        return 1
    print("Every step behaved as expected.")
    return 0
