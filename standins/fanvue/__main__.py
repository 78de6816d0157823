"""Command line: serve the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import threading

from .runner import Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m standins.fanvue", description="Serve a local Fanvue chat API."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--creators", type=int, default=1, help="creator accounts, each with its own fans")
    parser.add_argument("--fans", type=int, default=20, help="fans per creator")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-limit", type=int, default=200, help="requests per window per token")
    parser.add_argument("--rate-window", type=float, default=60.0, help="window in seconds")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sandbox = Sandbox(
        fans=args.fans,
        creators=args.creators,
        seed=args.seed,
        token=args.token,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        latency_ms=args.latency_ms,
        host=args.host,
        port=args.port,
    )
    with sandbox:
        print(f"Fanvue sandbox at {sandbox.url}")
        print(f"Bearer token: {sandbox.token}")
        if args.creators > 1:
            for world in sandbox.worlds:
                creator = world.creator
                print(f"Creator @{creator['handle']} {creator['uuid']}: token {world.static_tokens()[0]}")
        for member in sandbox.agency.members.values():
            role = "agency admin" if member.admin else "agency team member"
            print(f"{role.capitalize()} {member.account}: token {sorted(member.tokens)[0]}")
        oauth = sandbox.world.oauth
        print(f"OAuth: /oauth2/auth and /oauth2/token, client {oauth.client_id} / {oauth.client_secret}")
        print("X-Fanvue-API-Version: 2025-06-26; controls under /_sandbox/. Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
