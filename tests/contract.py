"""Validate real HTTP exchanges against Fanvue's normalised OpenAPI document.

The spec's only server is https://api.fanvue.com and openapi-core matches a request to an operation only
when the request's scheme and host match a server, so every request is re-addressed to that host before
validation (path and query are kept). The spec gives X-Fanvue-API-Version a default, which openapi-core
fills in for a request that omits it, so the header's presence is asserted separately.

Two specs: "chat" (the creator's own routes) at $FANVUE_SPEC_PATH, else
<repo>/../shared/fanvue/openapi-chat.normalized.json, and "agency" (the agency routes) at
$FANVUE_AGENCY_SPEC_PATH, else <repo>/../shared/fanvue/openapi-agency.normalized.json.
When one is absent the calling test is skipped, except under CI=true where that is a failure.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC_SERVER = "https://api.fanvue.com"
VERSION_HEADER = "X-Fanvue-API-Version"
SPECS = {
    "chat": ("FANVUE_SPEC_PATH", "openapi-chat.normalized.json"),
    "agency": ("FANVUE_AGENCY_SPEC_PATH", "openapi-agency.normalized.json"),
}


def spec_path(which: str = "chat") -> Path:
    variable, name = SPECS[which]
    override = os.environ.get(variable)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared/fanvue" / name


@functools.cache
def _load(path: Path) -> OpenAPI:
    return OpenAPI.from_file_path(str(path))


def load_spec(which: str = "chat") -> OpenAPI:
    """The parsed spec (cached); skips the test when the file is missing, fails instead under CI."""
    path = spec_path(which)
    if not path.is_file():
        reason = f"Fanvue OpenAPI spec not found at {path} (set {SPECS[which][0]})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return _load(path)


def as_spec_request(prepared: requests.PreparedRequest) -> RequestsOpenAPIRequest:
    """The request re-addressed to the spec's server so openapi-core can find its operation."""
    copy = prepared.copy()
    server = urlsplit(SPEC_SERVER)
    parts = urlsplit(copy.url)
    copy.url = urlunsplit((server.scheme, server.netloc, parts.path, parts.query, parts.fragment))
    return RequestsOpenAPIRequest(copy)


def validate_request(spec: OpenAPI, prepared: requests.PreparedRequest) -> None:
    """Raise if the request breaks the contract, including a missing API version header."""
    assert prepared.headers.get(VERSION_HEADER), f"request has no {VERSION_HEADER} header"
    spec.validate_request(as_spec_request(prepared))


def validate_exchange(spec: OpenAPI, response: requests.Response) -> None:
    """Validate the request that produced `response`, then the response itself."""
    validate_request(spec, response.request)
    validate_response(spec, response)


def validate_response(spec: OpenAPI, response: requests.Response) -> None:
    """Validate only the response (for deliberately invalid requests whose error answer is under test)."""
    spec.validate_response(as_spec_request(response.request), RequestsOpenAPIResponse(response))


def load_agency_spec() -> OpenAPI:
    """The agency routes' spec, with the same skip and CI rules as `load_spec`."""
    return load_spec("agency")
