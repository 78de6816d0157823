"""The sandbox's agency: several creators, the agency members who manage them, and who a token is."""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .model import iso
from .world import World

ADMIN = "agency-admin"
MEMBER = "agency-member"
CREATOR_ROUTE = re.compile(r"/creators/([^/]+)/")
MEMBER_SINCE = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Principal:
    """Who a bearer token belongs to: a creator (with their own account) or an agency member."""

    account: str
    uuid: str
    world: World | None = None
    admin: bool = False
    # None: a token given outright, which may do everything; else the scopes of its OAuth grant.
    scopes: frozenset[str] | None = None

    @property
    def is_member(self) -> bool:
        return self.world is None

    def lacks(self, *needed: str) -> list[str]:
        return [] if self.scopes is None else [s for s in needed if s not in self.scopes]


@dataclass
class Member:
    """A Fanvue user of the agency: an admin reaches every linked creator, a team member only its list."""

    account: str
    uuid: str
    display_name: str
    admin: bool
    tokens: set[str] = field(default_factory=set)
    reach: set[str] | None = None  # creator uuids; None: every linked creator

    def user_json(self) -> dict:
        """The body of GET /users/me for this member."""
        return {
            "uuid": self.uuid,
            "email": f"{self.account}@agency.example.com",
            "handle": self.account,
            "bio": "",
            "displayName": self.display_name,
            "isCreator": False,
            "createdAt": iso(MEMBER_SINCE),
            "updatedAt": iso(MEMBER_SINCE),
            "avatarUrl": None,
            "bannerUrl": None,
        }


class Agency:
    """The creators' accounts and the members; thread-safe. The first creator is the sandbox's `world`."""

    def __init__(self, worlds: list[World], token: str = "sandbox-token", seed: int = 1) -> None:
        if not worlds:
            raise ValueError("an agency needs at least one creator")
        self._lock = threading.Lock()
        self.worlds = list(worlds)
        self.oauth = self.worlds[0].oauth
        self._by_uuid = {w.creator["uuid"]: w for w in self.worlds}
        self._by_handle = {w.creator["handle"]: w for w in self.worlds}
        self._linked = set(self._by_uuid)
        # A team member reaches every other creator, starting with the first, so some are out of reach.
        partial = {w.creator["uuid"] for w in self.worlds[::2]}
        self.members = {
            ADMIN: Member(ADMIN, _member_uuid(ADMIN, seed), "Agency Admin", True, {f"{token}-{ADMIN}"}),
            MEMBER: Member(
                MEMBER, _member_uuid(MEMBER, seed), "Team Member", False, {f"{token}-{MEMBER}"}, partial
            ),
        }

    # -- creators -----------------------------------------------------------------------------------
    def creator_world(self, uuid_or_handle: str) -> World | None:
        return self._by_uuid.get(uuid_or_handle) or self._by_handle.get(uuid_or_handle)

    def linked_worlds(self) -> list[World]:
        with self._lock:
            return [w for w in self.worlds if w.creator["uuid"] in self._linked]

    def set_linked(self, creator: str, linked: bool) -> None:
        world = self._known(creator)
        with self._lock:
            (self._linked.add if linked else self._linked.discard)(world.creator["uuid"])

    def is_linked(self, creator_uuid: str) -> bool:
        with self._lock:
            return creator_uuid in self._linked

    def reaches(self, who: Principal, creator_uuid: str) -> bool:
        member = self.members.get(who.account) if who.is_member else None
        with self._lock:
            return member is not None and (member.reach is None or creator_uuid in member.reach)

    def set_reach(self, account: str, creators: list[str] | None) -> None:
        member = self.members.get(account)
        if member is None:
            raise ValueError(f"no agency member {account!r}; expected one of {sorted(self.members)}")
        uuids = None if creators is None else {self._known(c).creator["uuid"] for c in creators}
        with self._lock:
            member.reach = uuids

    def _known(self, creator: str) -> World:
        world = self.creator_world(str(creator))
        if world is None:
            raise ValueError(f"no creator {creator!r}")
        return world

    # -- tokens -------------------------------------------------------------------------------------
    def principal(self, token: str | None) -> Principal | None:
        """Who `token` belongs to, or None when it is unknown, expired or revoked."""
        if not token:
            return None
        with self._lock:
            for member in self.members.values():
                if token in member.tokens:
                    return Principal(member.account, member.uuid, admin=member.admin)
        for world in self.worlds:
            if world.has_token(token):
                return self._creator_principal(world, None)
        grant = self.oauth.access_grant(token)
        if grant is None:
            return None
        account, scope = grant
        scopes = frozenset(scope.split())
        member = self.members.get(account or "")
        if member is not None:
            return Principal(member.account, member.uuid, admin=member.admin, scopes=scopes)
        world = self.worlds[0] if account is None else self.creator_world(account)
        return None if world is None else self._creator_principal(world, scopes)

    def add_token(self, account: str, token: str) -> None:
        if account in self.members:
            with self._lock:
                self.members[account].tokens.add(token)
        else:
            self._known(account).add_token(token)

    def expire_tokens(self) -> None:
        with self._lock:
            for member in self.members.values():
                member.tokens.clear()
        for world in self.worlds:
            world.expire_tokens()

    def rate_key(self, token: str, path: str) -> str:
        """Fanvue's bucket: the user's, or for `/creators/{creator}/...` the user's for that creator."""
        match = CREATOR_ROUTE.match(path)
        return token if match is None else f"{token}|creator:{match.group(1)}"

    def state(self) -> dict:
        with self._lock:
            return {
                "creators": [
                    {
                        "uuid": w.creator["uuid"],
                        "handle": w.creator["handle"],
                        "linked": w.creator["uuid"] in self._linked,
                    }
                    for w in self.worlds
                ],
                "members": [
                    {
                        "account": m.account,
                        "uuid": m.uuid,
                        "admin": m.admin,
                        "tokens": sorted(m.tokens),
                        "reach": None if m.reach is None else sorted(m.reach),
                    }
                    for m in self.members.values()
                ],
            }

    @staticmethod
    def _creator_principal(world: World, scopes: frozenset[str] | None) -> Principal:
        creator = world.creator
        return Principal(creator["handle"], creator["uuid"], world=world, scopes=scopes)


def _member_uuid(account: str, seed: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://sandbox.fanvue.invalid/{seed}/{account}"))
