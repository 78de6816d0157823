"""Shared fixtures: a fresh sandbox, Slack stand-in and database per test."""

from __future__ import annotations

import pytest

from standins.fanvue import Sandbox
from standins.slack_api import SlackStandin
from tests.harness import BOT_TOKEN, Harness
from tests.pending_card import PendingCard, post_pending_card


@pytest.fixture
def sandbox():
    with Sandbox(fans=8, seed=7) as sb:
        yield sb


@pytest.fixture
def slack():
    with SlackStandin(bot_token=BOT_TOKEN) as st:
        yield st


@pytest.fixture
def harness(tmp_path, sandbox, slack):
    h = Harness(tmp_path / "bridge.db", sandbox, slack)
    yield h
    h.close()


@pytest.fixture
def pending_card(harness) -> PendingCard:
    """A cycle has run; one fan who can be answered has a card waiting for a decision."""
    return post_pending_card(harness)
