"""Client for Fanvue's chat API."""

from fanvue.client import FanvueClient
from fanvue.errors import (
    AuthError,
    BadRequestError,
    ConflictError,
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
from fanvue.ratelimit import RateBudget
from fanvue.tokens import StaticToken, TokenProvider

__all__ = [
    "AuthError",
    "BadRequestError",
    "Chat",
    "ChatMessages",
    "ConflictError",
    "FanvueClient",
    "FanvueError",
    "FanvueUnavailable",
    "InvalidMessage",
    "LastMessage",
    "MalformedResponse",
    "Me",
    "Message",
    "MissingScopeError",
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
]
