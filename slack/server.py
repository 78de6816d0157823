"""HTTP mode: Bolt behind its WSGI adapter, served by waitress, with a health check."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def wsgi_app(bolt: App, health: Callable[[], dict] | None = None) -> Callable:
    """Slack's requests at /slack/events (signatures checked by Bolt), `GET /healthz` for probes."""
    slack = SlackRequestHandler(bolt, path=EVENTS_PATH)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = json.dumps({"ok": True, **(health() if health else {})}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return application


class HttpServer:
    """A waitress server on a thread of its own, so tests and the demo can start and stop it."""

    def __init__(self, application: Callable, host: str = "0.0.0.0", port: int = 3000, threads: int = 16):
        self._server = waitress.create_server(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="fanvue-slack",
            clear_untrusted_proxy_headers=True,
            asyncore_loop_timeout=0.2,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.effective_port

    def serve_forever(self) -> None:
        logger.info("Listening for Slack on port %s%s", self.port, EVENTS_PATH)
        self._server.run()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish requests in progress, then close every connection, kept-alive ones included."""
        self._server.task_dispatcher.shutdown(timeout=5)
        # Closing sockets from this thread would race the loop's select(); the loop closes them itself.
        self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        if self._thread is not None:
            self._thread.join(timeout=5)
