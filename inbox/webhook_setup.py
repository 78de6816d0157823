"""`app.py webhooks`: what to register in Fanvue's developer area, and a signed test event to the running app."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import requests

from fanvue.scopes import CREATOR_SCOPES
from fanvue.webhooks import SIGNATURE_HEADER, Event, digest
from inbox.webhook_http import PATHS

EVENT_SCOPE = "read:chat"  # what Fanvue's message.* events need enabled on the app
SAMPLE_TIMEOUT = 10.0
# The test event names no real fan: the desk stores it like any other and finds no such chat.
SAMPLE_FAN_UUID = "00000000-0000-0000-0000-000000000000"


def urls(public_url: str) -> dict[Event, str]:
    return {event: public_url.rstrip("/") + path for event, path in PATHS.items()}


def instructions(public_url: str, secret_set: bool) -> str:
    """The URLs to register, one webhook per event, the scope they need and what to do with the secret."""
    rows = "\n".join(f"  {event.value:<17} {url}" for event, url in urls(public_url).items())
    among = "it is among the scopes `python app.py login` asks for" if EVENT_SCOPE in CREATOR_SCOPES else ""
    secret = (
        "FANVUE_WEBHOOK_SECRET is set: these URLs are served."
        if secret_set
        else "FANVUE_WEBHOOK_SECRET is not set: until it is, these URLs answer 404 and nothing is accepted."
    )
    return f"""In Fanvue's developer area, open your app > Events and add one webhook per event:

{rows}

Both events need the {EVENT_SCOPE} scope enabled on the app ({among}). A creator who logged in before
it was enabled must log in again (`python app.py login`) before events arrive.

Fanvue shows a signing secret for each webhook: put it in FANVUE_WEBHOOK_SECRET (both, comma-separated,
if the two webhooks have different secrets) and restart the app.
{secret}

Then `python app.py webhooks --test` sends a signed test event to the first URL. Polling keeps running
beside webhooks: a missed or late event is still found by the next cycle."""


def sample_body(now: float) -> bytes:
    """A message.received event in Fanvue's flat shape, with a fresh message uuid each time."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))
    message_uuid = str(uuid.uuid4())
    event = {
        "messageUuid": message_uuid,
        "message": {
            "uuid": message_uuid,
            "text": "Test event from `app.py webhooks --test`",
            "hasMedia": False,
            "mediaUuids": [],
            "price": None,
            "createdAt": stamp,
        },
        "sender": {"uuid": SAMPLE_FAN_UUID, "handle": "webhook-test", "displayName": "Webhook test"},
        "recipientUuid": SAMPLE_FAN_UUID,
        "isMuted": False,
        "timestamp": stamp,
    }
    return json.dumps(event).encode()


@dataclass(frozen=True)
class SampleAnswer:
    ok: bool
    line: str


def send_sample(public_url: str, secrets: Sequence[str], *, timeout: float = SAMPLE_TIMEOUT) -> SampleAnswer:
    """POST a signed test event to the message.received URL and say what the answer means."""
    url = urls(public_url)[Event.MESSAGE_RECEIVED]
    now = time.time()
    body = sample_body(now)
    stamp = int(now)
    signature = ",".join([f"t={stamp}", *(f"v0={digest(s, stamp, body)}" for s in secrets)])
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        return SampleAnswer(False, f"Could not reach {url}: {type(exc).__name__}. Is the app running there?")
    return SampleAnswer(
        200 <= response.status_code < 300,
        f"{url} answered {response.status_code}: " + _meaning(response.status_code),
    )


def _meaning(status: int) -> str:
    if 200 <= status < 300:
        return "the event was signed correctly and stored."
    if status == 401:
        return "the signature was refused; the running app has another FANVUE_WEBHOOK_SECRET (or its clock is off)."
    if status == 404:
        return "no webhooks there; FANVUE_WEBHOOK_SECRET is unset where the app runs, or PUBLIC_URL does not reach it."
    if status == 413 or status == 400:
        return "the app refused the body; is PUBLIC_URL this app?"
    return "unexpected; see the app's log."
