"""FANVUE_WEBHOOK_SECRET and PUBLIC_URL: optional, read once, the secret never shown."""

from __future__ import annotations

import pytest

import settings
from settings import SettingsError

ENV = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "signing",
    "SLACK_CHANNEL_ID": "C0123CARDS",
    "FANVUE_ACCESS_TOKEN": "token",
}
HOOK_SECRET = "WHSEC-DISTINCT-7777"


def test_both_are_optional_and_unset_means_no_webhooks():
    s = settings.from_mapping(ENV)
    assert s.fanvue_webhook_secrets == () and s.public_url is None


def test_one_secret_or_several_while_switching():
    assert settings.from_mapping({**ENV, "FANVUE_WEBHOOK_SECRET": HOOK_SECRET}).fanvue_webhook_secrets == (
        HOOK_SECRET,
    )
    both = settings.from_mapping({**ENV, "FANVUE_WEBHOOK_SECRET": f" old , {HOOK_SECRET} ,"})
    assert both.fanvue_webhook_secrets == ("old", HOOK_SECRET)
    assert HOOK_SECRET not in repr(both)


def test_public_url_loses_its_trailing_slash():
    s = settings.from_mapping({**ENV, "PUBLIC_URL": "https://inbox.example.com/desk/ "})
    assert s.public_url == "https://inbox.example.com/desk"


def test_a_public_url_that_is_not_http_is_named():
    with pytest.raises(SettingsError) as caught:
        settings.from_mapping(
            {**ENV, "PUBLIC_URL": "inbox.example.com", "FANVUE_WEBHOOK_SECRET": HOOK_SECRET}
        )
    assert caught.value.problems == ["PUBLIC_URL should be an http(s) URL, got 'inbox.example.com'"]
    assert HOOK_SECRET not in str(caught.value)


def test_a_placeholder_secret_is_refused():
    with pytest.raises(SettingsError) as caught:
        settings.from_mapping({**ENV, "FANVUE_WEBHOOK_SECRET": "..."})
    assert "FANVUE_WEBHOOK_SECRET is still the placeholder" in str(caught.value)


def test_the_burst_and_quiet_times_default_to_15_and_3_seconds_and_are_bounded():
    s = settings.from_mapping(ENV)
    assert (s.webhook_burst_seconds, s.webhook_quiet_seconds) == (15.0, 3.0)
    custom = settings.from_mapping({**ENV, "WEBHOOK_BURST_SECONDS": "30", "WEBHOOK_QUIET_SECONDS": "5"})
    assert (custom.webhook_burst_seconds, custom.webhook_quiet_seconds) == (30.0, 5.0)
    for bad in ("0", "121", "soon"):
        with pytest.raises(SettingsError) as caught:
            settings.from_mapping({**ENV, "WEBHOOK_BURST_SECONDS": bad})
        assert "WEBHOOK_BURST_SECONDS" in str(caught.value)
