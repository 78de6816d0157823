"""Typed errors for Fanvue API calls, built from the HTTP response that caused them."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import requests

logger = logging.getLogger(__name__)

_REQUEST_ID_HEADERS = ("X-Request-Id", "X-Amzn-RequestId", "X-Correlation-Id")
DEFAULT_RETRY_AFTER = 1.0


class FanvueError(Exception):
    """Something went wrong talking to Fanvue."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: object = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.request_id = request_id
        self.method = method
        self.path = path

    def request_details(self) -> dict[str, Any]:
        """The call and answer this error came from, for another error that restates it."""
        return {
            "status": self.status,
            "body": self.body,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
        }

    @classmethod
    def from_response(cls, resp: requests.Response, *, sending: bool = False) -> FanvueError:
        """Build the error subclass that matches an error response's status and body."""
        body = _body(resp)
        status = resp.status_code
        error_cls = _classify(status, body, sending)
        method, path = _request_line(resp)
        request_id = next((resp.headers[h] for h in _REQUEST_ID_HEADERS if h in resp.headers), None)
        detail = _detail(body)
        message = f"Fanvue answered {status} on {method} {path}"
        if detail:
            message += f": {detail}"
        if request_id:
            message += f" (request id {request_id})"
        err = error_cls(message, status=status, body=body, request_id=request_id, method=method, path=path)
        if isinstance(err, RateLimitedError):
            err.retry_after = retry_after_seconds(resp)
        elif isinstance(err, RetiredVersionError) and isinstance(body, dict):
            next_version = body.get("nextVersion")
            err.next_version = next_version if isinstance(next_version, str) else None
        elif isinstance(err, ValidationError) and isinstance(body, dict):
            err.errors = [str(e) for e in body.get("errors") or []]
        return err


class AuthError(FanvueError):
    """The access token was rejected (401), even after asking for a fresh one."""


class MissingScopeError(FanvueError):
    """The token lacks a scope the call needs (403)."""


class NotFoundError(FanvueError):
    """The chat or resource does not exist (404)."""


class CreatorNotReachable(FanvueError):
    """The agency login cannot reach this creator (403 or 404 on the creator's routes)."""

    def __init__(self, creator_uuid: str, cause: FanvueError) -> None:
        super().__init__(
            f"Creator {creator_uuid} is not reachable with this login: {cause.message}",
            **cause.request_details(),
        )
        self.creator_uuid = creator_uuid
        self.cause = cause


class AgencyAdminRequired(MissingScopeError):
    """The agency-wide chat list answered 403: only agency admins may read it."""


class ConflictError(FanvueError):
    """The request conflicts with the current state (409)."""


class BadRequestError(FanvueError):
    """Fanvue rejected the request (400 with a message)."""


class NotContactableError(BadRequestError):
    """The fan cannot be messaged right now (400 on a send)."""


class ValidationError(FanvueError):
    """Fanvue rejected the request's fields (400 with a list of errors)."""

    errors: list[str] = []


class UnsupportedVersionError(FanvueError):
    """The X-Fanvue-API-Version header is missing or unknown (400)."""


class RetiredVersionError(FanvueError):
    """The API version was retired (410); `next_version` names its successor when known."""

    next_version: str | None = None


class RateLimitedError(FanvueError):
    """Too many requests (429) and retries ran out; `retry_after` is in seconds."""

    retry_after: float = DEFAULT_RETRY_AFTER


class ServerError(FanvueError):
    """Fanvue failed with a 5xx answer."""


class FanvueUnavailable(FanvueError):
    """Fanvue could not be reached or did not answer in time."""


class SendOutcomeUnknown(FanvueError):
    """A send timed out, lost its connection or got a 5xx: it may or may not have been delivered."""

    creator_uuid: str | None = None

    def __init__(self, user_uuid: str, text: str, cause: BaseException) -> None:
        super().__init__(
            f"Sending to {user_uuid} may or may not have been delivered ({type(cause).__name__}: {cause})",
            status=getattr(cause, "status", None),
            method="POST",
            path=f"/chats/{user_uuid}/message",
        )
        self.user_uuid = user_uuid
        self.text = text
        self.cause = cause


class InvalidMessage(FanvueError, ValueError):
    """The message was rejected before any request: empty, too long or priced too low."""


class MalformedResponse(FanvueError):
    """A successful answer did not have the expected shape."""


def _classify(status: int, body: object, sending: bool) -> type[FanvueError]:
    fields = body if isinstance(body, dict) else {}
    if status == 400:
        if "errors" in fields:
            return ValidationError
        # Only the version check answers {error, message}; other 400s carry {message} or {errors}.
        if "error" in fields:
            return UnsupportedVersionError
        return NotContactableError if sending else BadRequestError
    by_status: dict[int, type[FanvueError]] = {
        401: AuthError,
        403: MissingScopeError,
        404: NotFoundError,
        409: ConflictError,
        410: RetiredVersionError,
        429: RateLimitedError,
    }
    if status in by_status:
        return by_status[status]
    if status >= 500:
        return ServerError
    return FanvueError


def _body(resp: requests.Response) -> object:
    try:
        return resp.json()
    except ValueError:
        return resp.text[:500]


def _detail(body: object) -> str:
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "message") if body.get(k)]
        if isinstance(body.get("errors"), list):
            parts.append("; ".join(str(e) for e in body["errors"]))
        return ": ".join(dict.fromkeys(parts))
    return str(body).strip()[:200] if body else ""


def _request_line(resp: requests.Response) -> tuple[str | None, str | None]:
    req = resp.request
    if req is None:
        return None, urlsplit(resp.url).path or None
    return req.method, urlsplit(req.url or "").path or None


def retry_after_seconds(resp: requests.Response) -> float:
    """Seconds a 429 asks to wait (Retry-After), or the default when it does not say."""
    value = resp.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        # An HTTP-date is allowed by RFC 9110 but Fanvue documents seconds; fall back to the default.
        seconds = DEFAULT_RETRY_AFTER
    return max(0.0, seconds)


class PaidMessageRefused(NotContactableError):
    """Fanvue refused a send that carried media or a price (400 with a message): the media is not the
    creator's or not ready, or the fan cannot be messaged; Fanvue answers these alike."""
