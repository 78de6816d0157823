"""Shared fixtures: a fresh sandbox, Slack stand-in and database per test.

Tests in a module marked `both_modes` that use the harness (or `slack_mode`) run once with Slack reaching the
app over HTTP and once over Socket Mode. A test marked `http_only` (inherently HTTP) or `run_once` (slow, and
the same whichever way Slack reaches the app) runs over HTTP alone."""

from __future__ import annotations

import pytest

from standins.fanvue import Sandbox
from standins.slack_api import SlackStandin
from tests.harness import BOT_TOKEN, MODES, Harness
from tests.pending_card import PendingCard, post_pending_card


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_modes: run each harness test over HTTP and over Socket Mode")
    config.addinivalue_line("markers", "http_only: inherently HTTP (signatures, bodies, replayed requests)")
    config.addinivalue_line("markers", "run_once: slow, and the same whichever way Slack reaches the app")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker
    one_mode = marked("http_only") is not None or marked("run_once") is not None
    if "slack_mode" in metafunc.fixturenames and marked("both_modes") is not None and not one_mode:
        metafunc.parametrize("slack_mode", MODES, indirect=True)


@pytest.fixture
def slack_mode(request: pytest.FixtureRequest) -> str:
    """How Slack reaches the app in this test: "http" unless the test is parametrized over both modes."""
    return getattr(request, "param", "http")


@pytest.fixture
def sandbox():
    with Sandbox(fans=8, seed=7) as sb:
        yield sb


@pytest.fixture
def slack():
    with SlackStandin(bot_token=BOT_TOKEN) as st:
        yield st


@pytest.fixture
def harness(tmp_path, sandbox, slack, slack_mode):
    h = Harness(tmp_path / "bridge.db", sandbox, slack, mode=slack_mode)
    yield h
    h.close()


@pytest.fixture
def pending_card(harness) -> PendingCard:
    """A cycle has run; one fan who can be answered has a card waiting for a decision."""
    return post_pending_card(harness)
