"""X-Fanvue-Signature checks and the message event payloads, as Fanvue's docs describe them."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json

import pytest

from fanvue import webhooks
from fanvue.webhooks import (
    Event,
    MalformedSignature,
    MessageRead,
    MessageReceived,
    MissingSignature,
    PayloadError,
    SignatureMismatch,
    StaleSignature,
)

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
NOW = 1_780_000_000
BODY = b'{"messageUuid": "m-1", "recipientUuid": "c-1"}'


def _v0(secret: str, stamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def _header(stamp: int = NOW, body: bytes = BODY, *secrets: str) -> str:
    return ",".join([f"t={stamp}", *(f"v0={_v0(s, stamp, body)}" for s in secrets or (SECRET,))])


def test_a_good_signature_passes_and_gives_its_timestamp():
    assert webhooks.verify(BODY, _header(), [SECRET], now=NOW).timestamp == NOW


def test_during_a_rotation_either_of_two_v0_values_may_match():
    both = _header(NOW, BODY, OLD_SECRET, SECRET)
    assert webhooks.verify(BODY, both, [SECRET], now=NOW)
    assert webhooks.verify(BODY, both, [OLD_SECRET], now=NOW)
    # The same two written as one v0 with comma-separated values.
    joined = f"t={NOW},v0={_v0(OLD_SECRET, NOW, BODY)},{_v0(SECRET, NOW, BODY)}"
    assert webhooks.parse_signature(joined).digests == webhooks.parse_signature(both).digests
    assert webhooks.verify(BODY, joined, [SECRET], now=NOW)


def test_any_of_several_secrets_may_match():
    assert webhooks.verify(BODY, _header(NOW, BODY, "creator-b"), ["creator-a", "creator-b"], now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_a_timestamp_over_five_minutes_away_either_side_is_refused(offset):
    stamp = NOW + offset
    with pytest.raises(StaleSignature, match="old" if offset < 0 else "future"):
        webhooks.verify(BODY, _header(stamp), [SECRET], now=NOW)


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_a_timestamp_within_five_minutes_passes(offset):
    assert webhooks.verify(BODY, _header(NOW + offset), [SECRET], now=NOW)


def test_a_tampered_body_is_refused():
    tampered = BODY.replace(b"m-1", b"m-2")
    with pytest.raises(SignatureMismatch):
        webhooks.verify(tampered, _header(), [SECRET], now=NOW)


def test_reserialised_json_no_longer_matches_so_the_raw_bytes_must_be_checked():
    reserialised = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert reserialised != BODY
    with pytest.raises(SignatureMismatch):
        webhooks.verify(reserialised, _header(), [SECRET], now=NOW)


def test_a_wrong_secret_is_refused_without_naming_any_secret():
    with pytest.raises(SignatureMismatch) as refused:
        webhooks.verify(BODY, _header(NOW, BODY, "someone-else"), [SECRET, OLD_SECRET], now=NOW)
    assert SECRET not in str(refused.value) and OLD_SECRET not in str(refused.value)


def test_no_configured_secret_refuses_everything():
    with pytest.raises(SignatureMismatch, match="no webhook secret"):
        webhooks.verify(BODY, _header(), [], now=NOW)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_refused(header):
    with pytest.raises(MissingSignature):
        webhooks.verify(BODY, header, [SECRET], now=NOW)


GOOD_HEX = "a" * 64
MALFORMED = {
    "no timestamp": f"v0={GOOD_HEX}",
    "no v0": f"t={NOW}",
    "two timestamps": f"t={NOW},t={NOW},v0={GOOD_HEX}",
    "timestamp not a number": f"t=soon,v0={GOOD_HEX}",
    "negative timestamp": f"t=-{NOW},v0={GOOD_HEX}",
    "unicode digits": f"t=١٢٣,v0={GOOD_HEX}",
    "v0 not hex": f"t={NOW},v0={'z' * 64}",
    "v0 too short": f"t={NOW},v0=abc",
    "slack's format": f"v0={GOOD_HEX}",
    "too many v0": f"t={NOW}," + ",".join([f"v0={GOOD_HEX}"] * 9),
    "huge header": f"t={NOW},v0={GOOD_HEX}," + "x" * 5000,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_header_is_refused_as_malformed(name):
    with pytest.raises(MalformedSignature):
        webhooks.verify(BODY, MALFORMED[name], [SECRET], now=NOW)


def test_unknown_schemes_and_spaces_are_tolerated():
    header = f" t={NOW} , v1=ignored , v0={_v0(SECRET, NOW, BODY)} "
    assert webhooks.verify(BODY, header, [SECRET], now=NOW)


def test_the_timestamp_is_checked_before_any_digest_so_an_old_replay_is_refused_as_stale():
    with pytest.raises(StaleSignature):
        webhooks.verify(BODY, _header(NOW - 3600), [SECRET], now=NOW)


# -- payloads -------------------------------------------------------------------------------------------

RECEIVED = {
    "messageUuid": "6f1c0a52-1b7e-4a35-9a59-7b1a0d2c1e11",
    "message": {
        "uuid": "6f1c0a52-1b7e-4a35-9a59-7b1a0d2c1e11",
        "text": "hi",
        "hasMedia": True,
        "mediaUuids": ["media-1"],
        "price": 500,
        "createdAt": "2026-01-01T12:00:00.000Z",
    },
    "sender": {"uuid": "fan-1", "handle": "fan", "displayName": "Fan", "avatarUrl": None},
    "recipientUuid": "creator-1",
    "isMuted": True,
    "timestamp": "2026-01-01T12:00:00.123Z",
}
READ = {
    "counterpartUuid": "fan-1",
    "readMessagesCount": 3,
    "recipientUuid": "creator-1",
    "timestamp": "2026-01-01T12:00:00.123Z",
}


def test_message_received_is_read_into_its_fields():
    event = webhooks.parse(Event.MESSAGE_RECEIVED, RECEIVED)
    assert event == MessageReceived(
        message_uuid="6f1c0a52-1b7e-4a35-9a59-7b1a0d2c1e11",
        text="hi",
        has_media=True,
        media_uuids=("media-1",),
        price=500,
        created_at="2026-01-01T12:00:00.000Z",
        sender=webhooks.Sender("fan-1", "fan", "Fan"),
        recipient_uuid="creator-1",
        is_muted=True,
        timestamp="2026-01-01T12:00:00.123Z",
    )
    assert event.fan_uuid == "fan-1"


def test_the_older_shape_without_media_uuids_price_and_is_muted_is_accepted():
    older = {
        **RECEIVED,
        "message": {k: v for k, v in RECEIVED["message"].items() if k not in ("mediaUuids", "price")},
    }
    del older["isMuted"]
    event = webhooks.parse(Event.MESSAGE_RECEIVED, older)
    assert (event.media_uuids, event.price, event.is_muted) == ((), None, False)


def test_unknown_fields_are_ignored_and_a_null_text_is_kept():
    document = {**RECEIVED, "newField": {"x": 1}, "message": {**RECEIVED["message"], "text": None, "tip": 5}}
    assert webhooks.parse(Event.MESSAGE_RECEIVED, document).text is None


def test_the_message_uuid_may_come_from_the_message_alone():
    document = {k: v for k, v in RECEIVED.items() if k != "messageUuid"}
    assert webhooks.parse(Event.MESSAGE_RECEIVED, document).message_uuid == RECEIVED["message"]["uuid"]


def test_message_read_is_read_into_its_fields():
    assert webhooks.parse(Event.MESSAGE_READ, READ) == MessageRead("fan-1", 3, "creator-1", READ["timestamp"])


@pytest.mark.parametrize("event, document", [(Event.MESSAGE_RECEIVED, RECEIVED), (Event.MESSAGE_READ, READ)])
def test_a_wrapped_delivery_is_unwrapped_and_keeps_its_id(event, document):
    wrapped = {"id": "evt_1", "type": event.value, "timestamp": "2026-01-01T12:00:01.000Z", "data": document}
    parsed = webhooks.parse(event, wrapped)
    assert parsed.envelope_id == "evt_1"
    assert dataclasses.replace(parsed, envelope_id=None) == webhooks.parse(event, document)
    assert parsed.recipient_uuid == "creator-1" and webhooks.recipient_of(wrapped, event) == "creator-1"


def test_a_wrapped_event_of_another_type_at_this_url_is_refused():
    wrapped = {"id": "evt_1", "type": "message.read", "data": READ}
    with pytest.raises(PayloadError, match="message.received URL"):
        webhooks.parse(Event.MESSAGE_RECEIVED, wrapped)


BAD_RECEIVED = {
    "no recipient": {k: v for k, v in RECEIVED.items() if k != "recipientUuid"},
    "no sender": {k: v for k, v in RECEIVED.items() if k != "sender"},
    "sender is text": {**RECEIVED, "sender": "fan"},
    "message is a list": {**RECEIVED, "message": []},
    "uuid with a newline": {**RECEIVED, "messageUuid": "m-1\nFAKE LOG LINE"},
    "price is text": {**RECEIVED, "message": {**RECEIVED["message"], "price": "5"}},
    "price is a bool": {**RECEIVED, "message": {**RECEIVED["message"], "price": True}},
    "media is not a list": {**RECEIVED, "message": {**RECEIVED["message"], "mediaUuids": "x"}},
    "muted is text": {**RECEIVED, "isMuted": "no"},
}


@pytest.mark.parametrize("name", sorted(BAD_RECEIVED))
def test_a_malformed_message_received_is_a_payload_error(name):
    with pytest.raises(PayloadError):
        webhooks.parse(Event.MESSAGE_RECEIVED, BAD_RECEIVED[name])


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b'"text"', b""])
def test_a_body_that_is_not_a_json_object_is_a_payload_error(raw):
    with pytest.raises(PayloadError):
        webhooks.decode(raw)
