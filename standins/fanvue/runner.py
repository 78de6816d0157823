"""Sandbox: the world served over HTTP on 127.0.0.1 in a background thread."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from .agency import Agency
from .ratelimit import TokenBucketLimiter
from .server import SandboxHTTPServer, ServerContext
from .webhooks import WebhookSender
from .world import World

logger = logging.getLogger(__name__)


class Sandbox:
    """A local stand-in for api.fanvue.com; use as a context manager or call start()/stop().

    `creators` accounts are served, each with `fans` fans of its own and its own token; `world` is the first
    creator's, `worlds` all of them, `agency` the members who manage them (see `agency.state()`).
    """

    def __init__(
        self,
        fans: int = 20,
        seed: int = 1,
        token: str = "sandbox-token",
        rate_limit: int = 200,
        rate_window: float = 60.0,
        latency_ms: int = 0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hang_seconds: float = 30.0,
        now: datetime | None = None,
        creators: int = 1,
    ) -> None:
        if creators < 1:
            raise ValueError("the sandbox needs at least one creator")
        self._context: ServerContext | None = None
        self.token = token
        now = now or datetime.now(UTC)
        self.world = World(fans=fans, seed=seed, tokens=(token,), now=now)
        self.world.set_latency(latency_ms)
        self.worlds = [self.world] + [
            World(fans=fans, seed=seed, tokens=(), now=now, creator_index=index)
            for index in range(1, creators)
        ]
        for world in self.worlds[1:]:
            world.add_token(f"{token}-{world.creator['handle']}")
        self.agency = Agency(self.worlds, token, seed)
        # Every creator's fans and reads, delivered to the URLs registered with `webhooks.register`.
        self.webhooks = WebhookSender()
        for world in self.worlds:
            world.observers.append(self.webhooks.observe)
        self.hang_seconds = hang_seconds
        self._address = (host, port)
        self._limiter = TokenBucketLimiter(rate_limit, rate_window)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def hang_seconds(self) -> float:
        return self._hang_seconds

    @hang_seconds.setter
    def hang_seconds(self, seconds: float) -> None:
        self._hang_seconds = seconds
        if self._context is not None:
            self._context.hang_seconds = seconds

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def creator_token(self, creator: str) -> str:
        """A bearer token of one creator's own account (uuid or handle)."""
        world = self.agency.creator_world(creator)
        if world is None:
            raise KeyError(creator)
        return world.static_tokens()[0]

    def member_token(self, account: str) -> str:
        """A bearer token of an agency member: `agency.ADMIN` or `agency.MEMBER`."""
        return sorted(self.agency.members[account].tokens)[0]

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._context = ServerContext(
            world=self.world,
            limiter=self._limiter,
            hang_seconds=self._hang_seconds,
            agency=self.agency,
            webhooks=self.webhooks,
        )
        self.webhooks.start()
        self._server = SandboxHTTPServer(self._address, self._context)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fanvue-sandbox",
            daemon=True,
        )
        self._thread.start()
        logger.info("Fanvue sandbox serving at %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._context.stopping.set()
        self.webhooks.stop()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
