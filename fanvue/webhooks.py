"""Fanvue's webhooks as HTTP facts: the X-Fanvue-Signature check and the two message event payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SIGNATURE_HEADER = "X-Fanvue-Signature"
# Fanvue's documented window: a timestamp further than this from now, either side, is refused.
SIGNATURE_WINDOW = 5 * 60
# Bounds on what an unauthenticated header may make us do (a rotation carries two v0 values).
MAX_HEADER_CHARS = 2048
MAX_SIGNATURES = 8
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
# Fanvue's uuids; anything else in an id field is refused before it reaches a log line or the database.
_UUID_LIKE = re.compile(r"[0-9A-Za-z-]{1,64}")


class Event(StrEnum):
    """The events this app subscribes to; each has its own URL, as platform events carry no type."""

    MESSAGE_RECEIVED = "message.received"
    MESSAGE_READ = "message.read"


# -- signature ------------------------------------------------------------------------------------------


class SignatureError(Exception):
    """A delivery whose X-Fanvue-Signature does not prove it came from Fanvue; the message says why."""


class MissingSignature(SignatureError):
    """No X-Fanvue-Signature header."""


class MalformedSignature(SignatureError):
    """The header is not `t=<unix seconds>,v0=<hex>[,v0=<hex>...]`."""


class StaleSignature(SignatureError):
    """The signed timestamp is too far from now (a replay, or a clock far off)."""


class SignatureMismatch(SignatureError):
    """No v0 value matches the body under any of the secrets."""


@dataclass(frozen=True)
class Signature:
    """A parsed X-Fanvue-Signature header."""

    timestamp: int
    digests: tuple[str, ...]


def parse_signature(header: str | None) -> Signature:
    """The header's timestamp and v0 digests. During a rotation Fanvue sends several v0 values, written
    either as repeated `v0=` pairs or as `v0=<hex>,<hex>`; both are read. Other schemes are ignored."""
    if header is None or not header.strip():
        raise MissingSignature(f"no {SIGNATURE_HEADER} header")
    if len(header) > MAX_HEADER_CHARS:
        raise MalformedSignature(f"the {SIGNATURE_HEADER} header is over {MAX_HEADER_CHARS} characters")
    stamps: list[str] = []
    digests: list[str] = []
    key = None
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            key = name.strip()
        else:
            value = name  # a bare value continues the previous key: `v0=<hex>,<hex>`
        if key == "t":
            stamps.append(value.strip())
        elif key == "v0":
            digests.append(value.strip())
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        raise MalformedSignature(f"the {SIGNATURE_HEADER} header needs one t=<unix seconds>")
    if not digests:
        raise MalformedSignature(f"the {SIGNATURE_HEADER} header has no v0 signature")
    if len(digests) > MAX_SIGNATURES:
        raise MalformedSignature(f"the {SIGNATURE_HEADER} header has over {MAX_SIGNATURES} v0 signatures")
    if not all(_HEX_DIGEST.fullmatch(d) for d in digests):
        raise MalformedSignature("a v0 signature is not a hex HMAC-SHA256 digest")
    return Signature(int(stamps[0]), tuple(d.lower() for d in digests))


def check_timestamp(
    signature: Signature, *, now: float | None = None, window: int = SIGNATURE_WINDOW
) -> None:
    """Refuse a timestamp more than `window` seconds before or after now."""
    drift = (time.time() if now is None else now) - signature.timestamp
    if drift > window:
        raise StaleSignature(f"the signature is {int(drift)} seconds old; at most {window} are accepted")
    if drift < -window:
        raise StaleSignature(
            f"the signature is {int(-drift)} seconds in the future; at most {window} allowed"
        )


def digest(secret: str, timestamp: int, raw_body: bytes) -> str:
    """v0: hex HMAC-SHA256 under the secret of `"{t}.{raw body}"`, over the exact bytes received."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + raw_body, hashlib.sha256).hexdigest()


def check_digests(signature: Signature, raw_body: bytes, secrets: Sequence[str]) -> None:
    """Pass when any v0 matches under any secret (a creator's secret, or the old and new during a rotation)."""
    if not secrets:
        raise SignatureMismatch("no webhook secret is configured for this recipient")
    matched = False
    for secret in secrets:
        expected = digest(secret, signature.timestamp, raw_body).encode()
        for candidate in signature.digests:
            matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise SignatureMismatch("the signature does not match the body under any configured secret")


def verify(
    raw_body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    now: float | None = None,
    window: int = SIGNATURE_WINDOW,
) -> Signature:
    """The whole check; raises a SignatureError subclass saying why (never quoting a secret)."""
    signature = parse_signature(header)
    check_timestamp(signature, now=now, window=window)
    check_digests(signature, raw_body, secrets)
    return signature


# -- payloads -------------------------------------------------------------------------------------------


class PayloadError(ValueError):
    """A body that is not JSON or not the shape of the event its URL receives."""


@dataclass(frozen=True)
class Sender:
    uuid: str
    handle: str | None
    display_name: str | None


@dataclass(frozen=True)
class MessageReceived:
    """A fan wrote to the creator (`recipient_uuid`). A hint: the chat itself is the truth."""

    message_uuid: str
    text: str | None
    has_media: bool
    media_uuids: tuple[str, ...]
    price: int | None  # cents
    created_at: str | None
    sender: Sender
    recipient_uuid: str
    is_muted: bool
    timestamp: str | None
    envelope_id: str | None = None  # only when the delivery came wrapped as {id, type, data}

    @property
    def fan_uuid(self) -> str:
        return self.sender.uuid


@dataclass(frozen=True)
class MessageRead:
    """The creator's side marked `read_messages_count` of a fan's (`counterpart_uuid`) messages read."""

    counterpart_uuid: str
    read_messages_count: int | None
    recipient_uuid: str
    timestamp: str | None
    envelope_id: str | None = None

    @property
    def fan_uuid(self) -> str:
        return self.counterpart_uuid


WebhookEvent = MessageReceived | MessageRead


def decode(raw_body: bytes) -> dict[str, Any]:
    """The body as a JSON object."""
    try:
        document = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("the body is not UTF-8 JSON") from exc
    if not isinstance(document, dict):
        raise PayloadError("the body is not a JSON object")
    return document


def unwrap(document: dict[str, Any], event: Event) -> tuple[dict[str, Any], str | None]:
    """The event's fields and the envelope id: newer deliveries may wrap them as {id, type, data}."""
    data = document.get("data")
    if not isinstance(data, dict) or "recipientUuid" in document:
        return document, None
    kind = document.get("type")
    if kind is not None and kind != event.value:
        raise PayloadError(f"a {str(kind)[:40]!r} event arrived at the {event.value} URL")
    envelope_id = document.get("id")
    return data, envelope_id if isinstance(envelope_id, str) and envelope_id else None


def recipient_of(document: dict[str, Any], event: Event) -> str:
    """The creator an event is addressed to, read before the signature is checked to pick the secret."""
    fields, _ = unwrap(document, event)
    return _uuid(fields, "recipientUuid")


def parse(event: Event, document: dict[str, Any]) -> WebhookEvent:
    """The typed event; unknown fields are ignored, missing optional ones default."""
    fields, envelope_id = unwrap(document, event)
    if event is Event.MESSAGE_READ:
        return MessageRead(
            counterpart_uuid=_uuid(fields, "counterpartUuid"),
            read_messages_count=_optional(fields, "readMessagesCount", int),
            recipient_uuid=_uuid(fields, "recipientUuid"),
            timestamp=_optional(fields, "timestamp", str),
            envelope_id=envelope_id,
        )
    message = fields.get("message")
    if not isinstance(message, dict):
        raise PayloadError("message is missing or not an object")
    sender = fields.get("sender")
    if not isinstance(sender, dict):
        raise PayloadError("sender is missing or not an object")
    message_uuid = _uuid(fields, "messageUuid") if "messageUuid" in fields else _uuid(message, "uuid")
    media = message.get("mediaUuids") or []
    if not isinstance(media, list) or not all(isinstance(m, str) for m in media):
        raise PayloadError("message.mediaUuids is not a list of strings")
    return MessageReceived(
        message_uuid=message_uuid,
        text=_optional(message, "text", str),
        has_media=bool(_optional(message, "hasMedia", bool)) or bool(media),
        media_uuids=tuple(media),
        price=_optional(message, "price", int),
        created_at=_optional(message, "createdAt", str),
        sender=Sender(
            uuid=_uuid(sender, "uuid"),
            handle=_optional(sender, "handle", str),
            display_name=_optional(sender, "displayName", str),
        ),
        recipient_uuid=_uuid(fields, "recipientUuid"),
        is_muted=bool(_optional(fields, "isMuted", bool)),
        timestamp=_optional(fields, "timestamp", str),
        envelope_id=envelope_id,
    )


def _uuid(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not _UUID_LIKE.fullmatch(value):
        raise PayloadError(f"{name} is missing or not a uuid")
    return value


def _optional(fields: dict[str, Any], name: str, kind: type) -> Any:
    value = fields.get(name)
    # bool is an int in Python; a count or a price of `true` is not what Fanvue sends.
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise PayloadError(f"{name} is not a {kind.__name__}")
    return value
