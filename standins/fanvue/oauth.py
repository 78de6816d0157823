"""The sandbox's authorization server: PKCE codes, rotating single-use refresh tokens, reuse revokes the grant."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from .faults import FaultPlan

AUTHORIZE_PATH = "/oauth2/auth"
TOKEN_PATH = "/oauth2/token"
ENABLED_SCOPES = frozenset(
    {
        "openid",
        "offline_access",
        "offline",
        "read:self",
        "read:chat",
        "write:chat",
        "read:creator",
        "read:agency",
        "read:insights",
        "read:fan",
        "read:media",
    }
)
CODE_TTL = 600.0


@dataclass(frozen=True)
class OAuthReply:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    expires_at: float
    grant_id: str | None = None
    account: str | None = None


@dataclass
class _Grant:
    client_id: str
    scope: str
    revoked: bool = False
    account: str | None = None


@dataclass
class _Refresh:
    grant_id: str
    used: bool = False


class OAuthAuthority:
    """Thread-safe OAuth state: codes, grants, access tokens (with expiry) and refresh tokens."""

    def __init__(
        self,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        *,
        access_ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl = access_ttl
        self.deny = False
        # Who is signed in at the browser: the account the next authorization approves for (None: the first
        # creator, the only account of a single-creator sandbox).
        self.account: str | None = None
        self.faults = FaultPlan()
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, tuple[str, float]] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._token_calls = 0

    # -- what the API and the controls ask ------------------------------------------------------------
    def access_valid(self, token: str | None) -> bool:
        with self._lock:
            found = self._access.get(token or "")
            return found is not None and not self._grants[found[0]].revoked and self._clock() < found[1]

    def access_grant(self, token: str | None) -> tuple[str | None, str] | None:
        """The account and scopes behind a live access token, or None."""
        with self._lock:
            found = self._access.get(token or "")
            if found is None or self._grants[found[0]].revoked or self._clock() >= found[1]:
                return None
            grant = self._grants[found[0]]
            return grant.account, grant.scope

    def expire_access(self) -> None:
        with self._lock:
            self._access = {token: (grant, 0.0) for token, (grant, _) in self._access.items()}

    def revoke_all(self) -> None:
        with self._lock:
            for grant in self._grants.values():
                grant.revoked = True

    def configure(self, body: dict) -> dict:
        """Apply a control request: access_ttl (seconds), deny (bool), fault {kind, count}."""
        if "access_ttl" in body:
            ttl = float(body["access_ttl"])
            if ttl < 0:
                raise ValueError("access_ttl cannot be negative")
            self.access_ttl = ttl
        if "deny" in body:
            self.deny = bool(body["deny"])
        if "account" in body:
            self.account = None if body["account"] is None else str(body["account"])
        if body.get("fault"):
            fault = body["fault"]
            self.faults.add(str(fault["kind"]), int(fault.get("count", 1)))
        return self.state()

    def state(self) -> dict:
        with self._lock:
            return {
                "token_calls": self._token_calls,
                "access_ttl": self.access_ttl,
                "deny": self.deny,
                "account": self.account,
                "grants": [
                    {"id": gid, "scope": g.scope, "revoked": g.revoked, "account": g.account}
                    for gid, g in self._grants.items()
                ],
                "faults": self.faults.pending(),
            }

    # -- GET /oauth2/auth -------------------------------------------------------------------------------
    def authorize(self, query: dict[str, list[str]]) -> OAuthReply:
        """Auto-approve: answer 302 to redirect_uri with a code (or an error) and the state."""
        params = {key: values[-1] for key, values in query.items()}
        if params.get("client_id") != self.client_id:
            return OAuthReply(400, {"error": "invalid_client", "error_description": "unknown client_id"})
        redirect_uri = params.get("redirect_uri") or ""
        if not redirect_uri.startswith(("http://", "https://")):
            return OAuthReply(
                400, {"error": "invalid_request", "error_description": "redirect_uri is required"}
            )
        state = params.get("state")
        scopes = set((params.get("scope") or "").split())
        problem = None
        if params.get("response_type") != "code":
            problem = ("unsupported_response_type", "response_type must be code")
        elif not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
            problem = ("invalid_request", "PKCE with code_challenge_method=S256 is required")
        elif not scopes or not scopes <= ENABLED_SCOPES:
            problem = (
                "invalid_scope",
                f"scopes not enabled for this app: {' '.join(sorted(scopes - ENABLED_SCOPES))}",
            )
        elif self.deny:
            problem = ("access_denied", "the creator did not allow access")
        if problem:
            return _redirect(
                redirect_uri, {"error": problem[0], "error_description": problem[1], "state": state}
            )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                self.client_id,
                redirect_uri,
                params["code_challenge"],
                " ".join(sorted(scopes)),
                self._clock() + CODE_TTL,
                account=self.account,
            )
        return _redirect(redirect_uri, {"code": code, "state": state})

    # -- POST /oauth2/token -----------------------------------------------------------------------------
    def token(
        self, authorization: str | None, content_type: str | None, raw: bytes
    ) -> tuple[OAuthReply, str | None]:
        """The answer and the fault to apply to it ("drop_response", "hang", or None)."""
        with self._lock:
            self._token_calls += 1
        fault = self.faults.take("POST", TOKEN_PATH)
        if fault in ("500", "503"):
            return OAuthReply(int(fault), {"error": "server_error"}), None
        if fault == "429":
            return OAuthReply(429, {"error": "Too many requests, retry later"}, {"Retry-After": "1"}), None
        if fault == "hang":
            return OAuthReply(0), "hang"
        return self._token(authorization, content_type, raw), fault

    def _token(self, authorization: str | None, content_type: str | None, raw: bytes) -> OAuthReply:
        if not self._client_ok(authorization):
            return OAuthReply(
                401,
                {"error": "invalid_client", "error_description": "client authentication failed"},
                {"WWW-Authenticate": 'Basic realm="fanvue"'},
            )
        if not (content_type or "").startswith("application/x-www-form-urlencoded"):
            return _error("invalid_request", "the body must be application/x-www-form-urlencoded")
        form = {
            key: values[-1] for key, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()
        }
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                return self._exchange(form)
            if form.get("grant_type") == "refresh_token":
                return self._rotate(form.get("refresh_token") or "")
        return _error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _client_ok(self, authorization: str | None) -> bool:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(client_id, self.client_id) and secrets.compare_digest(
            secret, self.client_secret
        )

    def _exchange(self, form: dict[str, str]) -> OAuthReply:
        code = self._codes.get(form.get("code") or "")
        if code is None or self._clock() >= code.expires_at:
            return _error("invalid_grant", "the code is unknown or expired")
        if code.grant_id is not None:
            # A code presented twice was intercepted or replayed: whatever it granted is revoked (RFC 6749 4.1.2).
            self._grants[code.grant_id].revoked = True
            return _error("invalid_grant", "the code was already used")
        if form.get("redirect_uri") != code.redirect_uri:
            return _error("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier") or ""
        if not verifier or not secrets.compare_digest(_s256(verifier), code.challenge):
            return _error("invalid_grant", "code_verifier does not match the code_challenge")
        code.grant_id = secrets.token_hex(8)
        self._grants[code.grant_id] = _Grant(code.client_id, code.scope, account=code.account)
        return self._issue(code.grant_id)

    def _rotate(self, refresh_token: str) -> OAuthReply:
        found = self._refresh.get(refresh_token)
        if found is None:
            return _error("invalid_grant", "unknown refresh token")
        grant = self._grants[found.grant_id]
        if found.used:
            # Reuse of a rotated token: someone holds a copy, so the whole grant goes.
            grant.revoked = True
            return _error("invalid_grant", "the refresh token was already used; the grant is revoked")
        if grant.revoked:
            return _error("invalid_grant", "the grant was revoked")
        found.used = True
        return self._issue(found.grant_id)

    def _issue(self, grant_id: str) -> OAuthReply:
        grant = self._grants[grant_id]
        access = "fva_" + secrets.token_urlsafe(24)
        self._access[access] = (grant_id, self._clock() + self.access_ttl)
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(self.access_ttl) or 0,
            "scope": grant.scope,
        }
        if "offline_access" in grant.scope.split():
            refresh = "fvr_" + secrets.token_urlsafe(24)
            self._refresh[refresh] = _Refresh(grant_id)
            body["refresh_token"] = refresh
        return OAuthReply(200, body, {"Cache-Control": "no-store"})


def _s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        .rstrip(b"=")
        .decode()
    )


def _error(code: str, description: str) -> OAuthReply:
    return OAuthReply(400, {"error": code, "error_description": description})


def _redirect(redirect_uri: str, params: dict[str, str | None]) -> OAuthReply:
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return OAuthReply(302, None, {"Location": urlunsplit(parts._replace(query=query))})
