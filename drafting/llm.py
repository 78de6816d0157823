"""A drafter for any OpenAI-compatible Chat Completions endpoint, with the template as its fallback."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3.exceptions

from drafting.base import Conversation, Drafted, Drafter
from drafting.deadline_http import DeadlineAdapter, cut_at
from drafting.persona import Persona
from drafting.prompt import build_messages, clean_reply

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER = 5.0
BACKOFF_BASE = 0.5
# A reply of DRAFT_MAX_CHARS in JSON is a few KiB; anything past this cap is not read at all.
MAX_ANSWER_BYTES = 256 * 1024
_READ_SIZE = 16 * 1024
_DETAIL_MAX = 200
_KEYLIKE = re.compile(r"\b(?:sk|rk|pk)-[\w*.-]{4,}")


class LlmError(Exception):
    """The endpoint gave no usable reply; the message says why in a few words (never a secret)."""


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    concurrency: int = 4
    context_messages: int = 15
    max_chars: int = 1000
    retries: int = 1


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None


class OpenAIChatDrafter:
    """Drafts with the persona's prompt; a failure, a timeout or an empty answer gives the fallback's draft,
    marked with the reason. At most `concurrency` requests are in flight, whoever asks."""

    name = "openai"

    def __init__(
        self,
        config: LlmConfig,
        persona: Persona,
        fallback: Drafter,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.persona = persona
        self.fallback = fallback
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self._owns_session = session is None
        self._session = session or _session(config.concurrency)
        self._slots = threading.BoundedSemaphore(max(1, config.concurrency))
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"OpenAIChatDrafter({self.url!r}, model={self.config.model!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def draft(self, conversation: Conversation) -> Drafted:
        messages = build_messages(
            conversation,
            self.persona,
            context_messages=self.config.context_messages,
            max_chars=self.config.max_chars,
        )
        started = time.monotonic()
        try:
            with self._slots:
                answer = self.complete(messages)
            speaker = self.persona.display_name(conversation.creator_name)
            text = clean_reply(answer.text, max_chars=self.config.max_chars, speaker=speaker)
            if not text:
                raise LlmError("the model answered no text")
        except LlmError as exc:
            elapsed = _ms_since(started)
            logger.warning(
                "Drafting for %s with %s failed after %d ms (%s); using the template",
                conversation.fan_handle,
                self.config.model,
                elapsed,
                exc,
            )
            backup = self.fallback.draft(conversation)
            return dataclasses.replace(
                backup, model=self.config.model, latency_ms=elapsed, fallback_reason=str(exc)
            )
        return Drafted(
            text=text,
            drafted_by=self.name,
            model=answer.model,
            latency_ms=_ms_since(started),
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """One Chat Completions call; connection errors, 429 and 5xx are retried `retries` times. The
        timeout bounds the whole call, retries and waits included, however slowly the endpoint answers."""
        body = {"model": self.config.model, "messages": messages}
        deadline = time.monotonic() + self.config.timeout
        for attempt in range(self.config.retries + 1):
            last_try = attempt == self.config.retries
            try:
                status, headers, data = self._post(body, deadline)
            except requests.Timeout:
                raise self._late() from None
            except requests.ConnectionError as exc:
                if time.monotonic() >= deadline:
                    raise self._late() from None  # the watchdog cut the connection
                pause = BACKOFF_BASE * 2**attempt
                if last_try or not _time_left(pause, deadline):
                    raise LlmError(f"could not reach the LLM endpoint ({type(exc).__name__})") from None
                self._sleep(pause)
                continue
            if status == 429 or status >= 500:
                pause = _retry_after(headers, attempt)
                if last_try or not _time_left(pause, deadline):
                    raise LlmError(f"the LLM endpoint answered {status}{self._detail(data)}")
                self._sleep(pause)
                continue
            if status >= 400:
                raise LlmError(f"the LLM endpoint answered {status}{self._detail(data)}")
            return _completion(data, self.config.model)
        raise LlmError("no attempt was made")  # only when retries < 0

    def _post(self, body: dict[str, Any], deadline: float) -> tuple[int, Any, bytes]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._late()
        with cut_at(deadline):
            resp = self._session.post(
                self.url, json=body, headers=self._headers(), timeout=remaining, stream=True
            )
            try:
                return resp.status_code, resp.headers, self._read(resp, deadline)
            finally:
                resp.close()  # a body not read to its end closes the connection: the endpoint stops sending

    def _read(self, resp: requests.Response, deadline: float) -> bytes:
        """The body, read against the deadline (requests' own timeout is per read, so a server sending a
        byte a second would never trip it) and never past MAX_ANSWER_BYTES."""
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise self._too_large()
        sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
        data = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._late()
            if sock is not None:
                sock.settimeout(remaining)  # one read may not outlast the deadline either
            try:
                chunk = resp.raw.read1(_READ_SIZE)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if time.monotonic() >= deadline or isinstance(exc, urllib3.exceptions.TimeoutError):
                    raise self._late() from None
                raise LlmError(f"the LLM endpoint's answer broke off ({type(exc).__name__})") from None
            if not chunk:
                return bytes(data)
            data += chunk
            if len(data) > MAX_ANSWER_BYTES:
                raise self._too_large()

    def _late(self) -> LlmError:
        return LlmError(f"no answer within {self.config.timeout:g} s")

    def _too_large(self) -> LlmError:
        return LlmError(f"the LLM endpoint's answer is larger than {MAX_ANSWER_BYTES // 1024} KiB")

    def _detail(self, data: bytes) -> str:
        """The endpoint's own error message, without the key some endpoints echo back (it reaches cards)."""
        detail = _detail(data)
        if self.config.api_key:
            detail = detail.replace(self.config.api_key, "***")
        return _KEYLIKE.sub("***", detail)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers


def _session(concurrency: int) -> requests.Session:
    """Retries are the drafter's own loop; the pool keeps a connection for each request in flight; a
    watchdog can cut each call at its deadline."""
    session = requests.Session()
    adapter = DeadlineAdapter(pool_connections=1, pool_maxsize=max(10, concurrency), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _completion(data: bytes, default_model: str) -> Completion:
    try:
        answer = json.loads(data)
    except ValueError:
        raise LlmError("the LLM endpoint answered something that is not JSON") from None
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LlmError("the LLM endpoint answered no choices")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # some servers answer content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        raise LlmError("the model answered no text")
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    model = answer.get("model")
    return Completion(
        text=content,
        model=model if isinstance(model, str) and model else default_model,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _detail(data: bytes) -> str:
    """The endpoint's own error message, if it gave one, cut short."""
    try:
        body = json.loads(data)
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return f": {str(message)[:_DETAIL_MAX]}" if isinstance(message, str) and message else ""


def _retry_after(headers: Any, attempt: int) -> float:
    try:
        return max(0.0, min(float(headers.get("Retry-After", "")), MAX_RETRY_AFTER))
    except ValueError:
        return random.uniform(0.5, 1.0) * BACKOFF_BASE * 2**attempt


def _time_left(pause: float, deadline: float) -> bool:
    """Whether a retry after `pause` seconds could still start before the deadline."""
    return deadline - time.monotonic() > pause


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
