"""The click benchmark's baseline as a process: the app's wiring, with a Send handler that acknowledges last."""

from __future__ import annotations

import sys

from slack_bolt import App

import runtime as app_runtime
import settings as settings_module
from inbox import decisions
from inbox.services import Services
from slack import blocks
from slack.server import HttpServer, wsgi_app


def late_ack_app(svc: Services, runtime_bolt: App, signing_secret: str) -> App:
    """What a first version of a Slack handler often does: the Fanvue work, then ack()."""
    late = App(
        client=runtime_bolt.client,
        signing_secret=signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @late.action(blocks.SEND)
    def send(ack, body, action) -> None:
        decisions.send(svc, *blocks.parse_button_value(action["value"]), actor=body["user"]["id"])
        ack()

    return late


def main() -> int:
    config = settings_module.load("/nonexistent.env")
    runtime = app_runtime.build(config)
    bolt = late_ack_app(runtime.services, runtime.bolt, config.slack_signing_secret)
    server = HttpServer(wsgi_app(bolt, runtime.health), host="127.0.0.1", port=config.port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
