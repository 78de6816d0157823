"""Client for Fanvue's chat API."""

from fanvue.agency import AgencyClient, CreatorView
from fanvue.agency_models import Creator, CreatorChat
from fanvue.client import FanvueClient
from fanvue.errors import (
    AgencyAdminRequired,
    AuthError,
    BadRequestError,
    ConflictError,
    CreatorNotReachable,
    FanvueError,
    FanvueUnavailable,
    InvalidMessage,
    MalformedResponse,
    MissingScopeError,
    NotContactableError,
    NotFoundError,
    RateLimitedError,
    RetiredVersionError,
    SendOutcomeUnknown,
    ServerError,
    UnsupportedVersionError,
    ValidationError,
)
from fanvue.models import Chat, ChatMessages, LastMessage, Me, Message, UnreadCounts, User
from fanvue.ratelimit import BudgetBook, RateBudget
from fanvue.scopes import Mode, missing_scopes, scope_problem, scope_string
from fanvue.tokens import StaticToken, TokenProvider

__all__ = [
    "AgencyAdminRequired",
    "AgencyClient",
    "AuthError",
    "BudgetBook",
    "BadRequestError",
    "Chat",
    "ChatMessages",
    "ConflictError",
    "Creator",
    "CreatorChat",
    "CreatorNotReachable",
    "CreatorView",
    "FanvueClient",
    "FanvueError",
    "FanvueUnavailable",
    "InvalidMessage",
    "LastMessage",
    "MalformedResponse",
    "Me",
    "Message",
    "MissingScopeError",
    "Mode",
    "NotContactableError",
    "NotFoundError",
    "RateBudget",
    "RateLimitedError",
    "RetiredVersionError",
    "SendOutcomeUnknown",
    "ServerError",
    "StaticToken",
    "TokenProvider",
    "UnreadCounts",
    "UnsupportedVersionError",
    "User",
    "ValidationError",
    "missing_scopes",
    "scope_problem",
    "scope_string",
]
