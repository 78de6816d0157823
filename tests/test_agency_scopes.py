"""The scopes each mode needs, the sentence that says what a login lacks, and the sandbox's scope checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fanvue import (
    AgencyClient,
    MissingScopeError,
    Mode,
    StaticToken,
    missing_scopes,
    scope_problem,
    scope_string,
)
from fanvue.scopes import AGENCY_SCOPES, CREATOR_SCOPES
from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN

CHAT_GRANT = "openid offline_access offline read:self read:chat write:chat"
CREATOR_GRANT = CHAT_GRANT + " read:insights read:fan read:media"


def test_creator_mode_adds_fan_context_earnings_and_media_and_agency_mode_its_routes_to_the_chat_scopes():
    assert scope_string(Mode.CREATOR) == CREATOR_GRANT
    assert set(AGENCY_SCOPES) - set(CREATOR_SCOPES) == {"read:creator", "read:agency"}
    assert set(CREATOR_SCOPES) - set(AGENCY_SCOPES) == {"read:fan"}
    assert scope_string("agency") == CHAT_GRANT + " read:creator read:agency read:insights read:media"


def test_a_full_grant_lacks_nothing_in_any_order():
    assert missing_scopes(" ".join(reversed(AGENCY_SCOPES)), Mode.AGENCY) == []
    assert scope_problem(CREATOR_GRANT, Mode.CREATOR) is None
    # A token response without `scope` granted what was asked for.
    assert scope_problem(None, Mode.AGENCY) is None


def test_the_problem_names_the_missing_scopes_and_the_fix_in_one_sentence():
    problem = scope_problem(CREATOR_GRANT, "agency")
    assert missing_scopes(CREATOR_GRANT, "agency") == ["read:creator", "read:agency"]
    assert problem == (
        "The Fanvue login lacks read:creator, read:agency, which agency mode needs: enable them for the app "
        "in Fanvue's developer area, then log in again."
    )
    assert "enable it " in scope_problem(CREATOR_GRANT.replace(" read:fan", ""), "creator")


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        missing_scopes(CREATOR_GRANT, "studio")


def log_in(sandbox: Sandbox, account: str, scope: str) -> dict:
    """The authorization-code flow with PKCE against the sandbox, signed in at the browser as `account`."""
    requests.post(f"{sandbox.url}/_sandbox/oauth", json={"account": account}, timeout=5).raise_for_status()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:1/callback"
    oauth = sandbox.world.oauth
    approved = requests.get(
        f"{sandbox.url}/oauth2/auth",
        params={
            "client_id": oauth.client_id,
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": scope,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    answer = requests.post(
        f"{sandbox.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        auth=(oauth.client_id, oauth.client_secret),
        timeout=5,
    )
    answer.raise_for_status()
    return answer.json()


def test_an_agency_login_with_every_scope_reaches_the_creators():
    with Sandbox(creators=2, fans=3, seed=1) as sb:
        pair = log_in(sb, ADMIN, scope_string(Mode.AGENCY))
        with AgencyClient(sb.url, StaticToken(pair["access_token"])) as client:
            handles = [c.handle for c in client.creators()]
            me = client.me()
    assert scope_problem(pair["scope"], Mode.AGENCY) is None
    assert handles == ["mia-rivers", "luna-park"] and me.uuid == sb.agency.members[ADMIN].uuid


def test_an_agency_login_without_the_agency_scopes_is_told_and_refused():
    with Sandbox(creators=2, fans=3, seed=1) as sb:
        pair = log_in(sb, ADMIN, scope_string(Mode.CREATOR))
        with (
            AgencyClient(sb.url, StaticToken(pair["access_token"])) as client,
            pytest.raises(MissingScopeError),
        ):
            list(client.creators())
    assert "read:creator, read:agency" in scope_problem(pair["scope"], Mode.AGENCY)


def test_a_second_creator_logs_in_to_their_own_account():
    with Sandbox(creators=2, fans=3, seed=1) as sb:
        second = sb.worlds[1]
        pair = log_in(sb, second.creator["handle"], scope_string(Mode.CREATOR))
        headers = {"Authorization": f"Bearer {pair['access_token']}", "X-Fanvue-API-Version": "2025-06-26"}
        me = requests.get(f"{sb.url}/users/me", headers=headers, timeout=5).json()
        chats = requests.get(f"{sb.url}/chats", params={"size": 50}, headers=headers, timeout=5).json()
    assert me["uuid"] == second.creator["uuid"]
    assert sorted(c["user"]["uuid"] for c in chats["data"]) == sorted(f["uuid"] for f in second.fans())
