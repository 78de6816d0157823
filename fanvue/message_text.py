"""What Fanvue takes as a message's text: something besides white space, at most 5000 characters."""

from __future__ import annotations

MAX_TEXT = 5000  # Fanvue's limit on a message's text (POST /chats/{userUuid}/message)


def text_problem(text: object) -> str | None:
    """Why Fanvue would refuse `text` as a message, in words for a teammate; None when it takes it."""
    if not isinstance(text, str) or not text.strip():
        return "The reply is empty: there is nothing to send."
    if len(text) > MAX_TEXT:
        return f"The reply is {len(text)} characters; Fanvue takes at most {MAX_TEXT}."
    return None
