"""Many oversized or malformed requests at once: every one is refused and the process's memory stays bounded."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from slack import blocks
from standins.slack_requests import sign_request
from tests.harness import SECRET, Harness
from tests.test_http_edge import SIGNED_BUT_MALFORMED, _read_answer, _stream_chunked

CLAIMED = 50 * 1024 * 1024
CONCURRENT = 200
# Generous: without the limits each of these requests would hold megabytes (the app read whole bodies).
RSS_GROWTH_MAX = 96 * 1024 * 1024


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class _PeakRss:
    """The highest resident size seen while the block runs, sampled from a thread of its own."""

    def __enter__(self) -> _PeakRss:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _claimed(port: int | str) -> bytes:
    """Content-Length says 50 MiB; the first 64 KiB follow, then the client waits for the answer."""
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {CLAIMED}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as sock:
        try:
            sock.sendall(head.encode() + b"payload=" + b"a" * 65536)
        except OSError:
            pass
        return _read_answer(sock)


def test_200_concurrent_oversized_requests_are_all_refused_and_memory_stays_bounded(harness: Harness):
    harness.cycle()
    port = harness.server.port
    _claimed(port), _stream_chunked(port, CLAIMED)  # warm up: threads and buffers that stay anyway
    with _PeakRss() as rss, ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        claimed = [pool.submit(_claimed, port) for _ in range(CONCURRENT // 2)]
        streamed = [pool.submit(_stream_chunked, port, CLAIMED) for _ in range(CONCURRENT // 2)]
        answers = [f.result() for f in claimed + streamed]
    assert all(a.startswith(b"HTTP/1.1 413 ") for a in answers), {a[:20] for a in answers}
    grown = rss.peak - rss.start
    print(f"RSS grew by {grown / 2**20:.1f} MiB")
    assert grown < RSS_GROWTH_MAX, f"resident memory grew by {grown // 1024 // 1024} MiB"
    # Nothing reached the listeners, and the app still answers Slack.
    assert harness.sandbox.world.sent_messages() == []
    fan = harness.unread_fan_with_text()
    draft = harness.draft_for(fan["uuid"])
    assert harness.click(draft, blocks.SEND).status_code == 200
    assert [m["text"] for m in harness.sandbox.world.sent_messages()] == [draft.draft_text]


def test_200_concurrent_malformed_signed_requests_are_refused_without_tracebacks(harness: Harness, caplog):
    bodies = list(SIGNED_BUT_MALFORMED.values())

    def post(i: int) -> int:
        body = bodies[i % len(bodies)]
        return requests.post(
            harness.url, data=body.encode(), headers=sign_request(SECRET, body), timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        codes = list(pool.map(post, range(CONCURRENT)))
    harness.settle()
    assert set(codes) == {400}
    assert "Traceback" not in caplog.text
    assert harness.sandbox.world.sent_messages() == [] and harness.slack.responses() == []
