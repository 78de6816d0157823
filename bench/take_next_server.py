"""The Take next benchmark's baseline as a process: the app's wiring, with Home handlers that acknowledge last."""

from __future__ import annotations

import sys

from slack_bolt import App

import runtime as app_runtime
import settings as settings_module
from slack.home import Home
from slack.home_blocks import TAKE_NEXT
from slack.server import HttpServer, wsgi_app


def late_ack_app(home: Home, runtime_bolt: App, signing_secret: str) -> App:
    """What a first version of these handlers often does: the take, the Home tab and the DM, then ack()."""
    late = App(
        client=runtime_bolt.client,
        signing_secret=signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @late.action(TAKE_NEXT)
    def take_next(ack, body, client) -> None:
        user = body["user"]["id"]
        answer = home.take_next(client, user)
        home.publish(client, user, banner=answer["text"])
        client.chat_postMessage(channel=user, text=answer["text"], blocks=answer["blocks"])
        ack()

    @late.event("app_home_opened")
    def opened(ack, event, client) -> None:
        home.publish(client, event["user"])
        ack()

    return late


def main() -> int:
    config = settings_module.load("/nonexistent.env")
    runtime = app_runtime.build(config)
    bolt = late_ack_app(Home(runtime.services), runtime.bolt, config.slack_signing_secret or "")
    server = HttpServer(wsgi_app(bolt, runtime.health), host="127.0.0.1", port=config.port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
