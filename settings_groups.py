"""How each group of settings is read and checked; `default` is settings.DEFAULT, the defaults in one place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from drafting.persona import PersonaError, load_persona
from settings_reader import WHERE, Reader
from store.fan_context import PRIORITIES

if TYPE_CHECKING:
    from settings import Settings


def card_priority(reader: Reader, default: Settings) -> str:
    value = (reader.env.get("CARD_PRIORITY") or default.card_priority).strip().lower()
    if value not in PRIORITIES:
        reader.problems.append(f"CARD_PRIORITY should be one of {', '.join(PRIORITIES)}, got {value!r}")
        return default.card_priority
    return value


DRAFTERS = ("template", "openai")
LLM_WHERE = (
    "the endpoint's base URL with its /v1 (https://api.openai.com/v1, https://openrouter.ai/api/v1, "
    "http://localhost:11434/v1 for Ollama) and a model it serves"
)


def drafting(reader: Reader, default: Settings) -> dict:
    """Which drafter writes the replies, the LLM endpoint if any, and the persona file (checked now)."""
    drafter = (reader.optional("DRAFTER") or default.drafter).lower()
    if drafter not in DRAFTERS:
        reader.problems.append(f"DRAFTER should be one of {', '.join(DRAFTERS)}, got {drafter!r}")
    base_url = reader.optional("LLM_BASE_URL")
    if base_url and not base_url.startswith(("http://", "https://")):
        reader.problems.append(f"LLM_BASE_URL should be an http(s) URL, got {base_url!r}")
    model = reader.optional("LLM_MODEL")
    missing = [name for name, value in (("LLM_BASE_URL", base_url), ("LLM_MODEL", model)) if not value]
    if drafter == "openai" and missing:
        reader.problems.append(f"DRAFTER=openai needs {' and '.join(missing)}: {LLM_WHERE}")
    persona_file = reader.optional("PERSONA_FILE")
    if persona_file:
        try:
            load_persona(persona_file)
        except PersonaError as exc:
            reader.problems.append(f"PERSONA_FILE: {exc}")
    return dict(
        drafter=drafter,
        llm_base_url=base_url.rstrip("/") if base_url else None,
        llm_api_key=reader.optional("LLM_API_KEY"),
        llm_model=model,
        llm_timeout=reader.seconds("LLM_TIMEOUT_SECONDS", default.llm_timeout, high=600),
        llm_concurrency=reader.number("LLM_CONCURRENCY", default.llm_concurrency, low=1, high=32),
        draft_context_messages=reader.number(
            "DRAFT_CONTEXT_MESSAGES", default.draft_context_messages, low=1, high=50
        ),
        draft_max_chars=reader.number("DRAFT_MAX_CHARS", default.draft_max_chars, low=50, high=3000),
        style_examples=reader.number("STYLE_EXAMPLES", default.style_examples, low=0, high=20),
        persona_file=Path(persona_file) if persona_file else None,
    )


def desk_file(reader: Reader) -> Path | None:
    """DESK_FILE, which must exist when set; desk.py reads and checks what it says."""
    value = reader.optional("DESK_FILE")
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        reader.problems.append(
            f"DESK_FILE {value} {'is a folder, not a file' if path.is_dir() else 'does not exist'} "
            "(start from desk.example.yml; README: Desk file), or unset it to send every card to "
            "SLACK_CHANNEL_ID"
        )
    return path


def fanvue_login(
    reader: Reader,
    database_path: Path,
    login: bool,
    login_stored: Callable[[Path], bool] | None,
    default: Settings,
) -> dict:
    """A stored login (renewed with the app's credentials) or else FANVUE_ACCESS_TOKEN."""
    access_token = reader.optional("FANVUE_ACCESS_TOKEN")
    stored = not login and login_stored is not None and login_stored(database_path)
    client_id: str | None
    client_secret: str | None
    if login or stored:
        client_id, client_secret = (
            reader.required("FANVUE_CLIENT_ID"),
            reader.required("FANVUE_CLIENT_SECRET"),
        )
    else:
        client_id, client_secret = (
            reader.optional("FANVUE_CLIENT_ID"),
            reader.optional("FANVUE_CLIENT_SECRET"),
        )
        if not access_token:
            reader.problems.append(
                f"FANVUE_ACCESS_TOKEN is missing and no Fanvue login is stored in {database_path}: run "
                f"`python app.py login` (README: Fanvue login), or set it to {WHERE['FANVUE_ACCESS_TOKEN']}"
            )
    # Not normalised: Fanvue compares it character for character with the one registered for the app.
    redirect_uri = reader.optional("FANVUE_REDIRECT_URI") or default.fanvue_redirect_uri
    if not redirect_uri.startswith("http://"):
        reader.problems.append(
            f"FANVUE_REDIRECT_URI should be a local http:// address that this machine can "
            f"listen on, got {redirect_uri!r}"
        )
    return dict(
        fanvue_access_token=access_token,
        fanvue_client_id=client_id,
        fanvue_client_secret=client_secret,
        fanvue_auth_base=reader.url("FANVUE_AUTH_BASE", default.fanvue_auth_base),
        fanvue_redirect_uri=redirect_uri,
    )


def webhook_secrets(reader: Reader) -> tuple[str, ...]:
    """FANVUE_WEBHOOK_SECRET: one secret, or several comma-separated while switching to a new one."""
    value = reader.optional("FANVUE_WEBHOOK_SECRET") or ""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def public_url(reader: Reader) -> str | None:
    """PUBLIC_URL: where Fanvue reaches this app (scheme and host, maybe a path prefix)."""
    value = reader.optional("PUBLIC_URL")
    if value and not value.startswith(("http://", "https://")):
        reader.problems.append(f"PUBLIC_URL should be an http(s) URL, got {value!r}")
        return None
    return value.rstrip("/") if value else None
