"""Bolt listeners for the card's buttons and the edit modal: acknowledge, call the workflow, report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from fanvue.message_text import text_problem
from inbox import decisions, takes
from inbox.offers import card_offer
from inbox.outcome import Kind, Outcome
from inbox.selling import OfferView
from inbox.services import Services
from slack import blocks, take_blocks
from slack.handoff import RunLater, acknowledge_then
from store.db import StoreError
from store.drafts import Draft

logger = logging.getLogger(__name__)

NOT_OURS = "This button is not one of this app's cards; nothing was done."
EDITOR_FAILED = "Slack could not open the editor ({error}); nothing was changed. Click Edit again."
NOT_RECORDED = (
    "Could not record this in the app's database ({reason}), so nothing was done. Tell whoever runs the app."
)

# What a card's button does: (services, draft id, version the clicker saw, clicker) -> outcome.
Decision = Callable[[Services, int, int, str], Outcome]
ON_CLICK: dict[str, Decision] = {
    blocks.SEND: decisions.send,
    blocks.SKIP: decisions.skip,
    blocks.REGENERATE: decisions.regenerate,
    blocks.EDIT: takes.start_edit,  # opening the editor on a card nobody has takes it
    take_blocks.TAKE: takes.take,
    take_blocks.TAKE_OVER: takes.take_over,
}


def register(
    app: App, svc: Services, run_later: RunLater, after: Callable[[Any, str], None] | None = None
) -> None:
    """Attach the card and modal listeners, and one error handler that logs with the traceback.

    Each listener acknowledges in the request's own thread and hands its work to `run_later` (the app's
    pool), so a burst of clicks is acknowledged at once however long Fanvue takes. `after(client, user)`
    runs once a teammate's click or edit is done (their Home tab shows the change).
    """

    def then(work: Callable[..., None], check: Callable[..., bool] | None = None) -> Callable[..., None]:
        return acknowledge_then(run_later, work, check)

    def decide(decision: Decision) -> Callable[..., None]:
        def work(body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
            ids = _ids(action.get("value", ""))
            user = body["user"]["id"]
            try:
                outcome = decision(svc, *ids, user) if ids else Outcome(Kind.INVALID, NOT_OURS)
            except StoreError as exc:
                logger.error("A click on draft %s could not be recorded: %s", ids[0] if ids else None, exc)
                outcome = Outcome(Kind.FAILED, NOT_RECORDED.format(reason=exc.reason))
            if outcome.kind is Kind.EDITING and outcome.draft is not None:
                outcome = _open_editor(
                    client, body["trigger_id"], outcome.draft, card_offer(svc, outcome.draft)
                )
            _tell(respond, client, body, outcome)
            if after is not None:
                after(client, user)

        return then(work)

    def check_edit(ack, body: dict[str, Any], view: dict[str, Any]) -> bool:
        """Problems with the edit are shown in the modal itself, so the teammate can fix them."""
        try:
            draft_id, version = blocks.parse_edit_metadata(view.get("private_metadata", ""))
        except ValueError:
            ack(response_action="errors", errors={blocks.EDIT_BLOCK: NOT_OURS})
            return False
        text, user = _submitted_text(view), body["user"]["id"]
        try:
            problem = _edit_problem(text) or _refusal(svc, draft_id, version, user)
            flags = [] if problem else decisions.flagged_edit(svc, draft_id, version, user, text)
        except StoreError as exc:
            logger.error("An edit of draft %s could not be recorded: %s", draft_id, exc)
            problem, flags = NOT_RECORDED.format(reason=exc.reason), []
        if problem:
            ack(response_action="errors", errors={blocks.EDIT_BLOCK: problem})
            return False
        if flags:
            error = blocks.flagged_edit_error([flag.to_dict() for flag in flags])
            ack(response_action="errors", errors={blocks.EDIT_BLOCK: error})
            return False
        ack()
        return True

    def send_edit(body: dict[str, Any], view: dict[str, Any], respond, client) -> None:
        try:
            draft_id, version = blocks.parse_edit_metadata(view.get("private_metadata", ""))
        except ValueError:
            return
        text, user = _submitted_text(view), body["user"]["id"]
        if _edit_problem(text) or not decisions.edit_confirmed(svc, draft_id, version, user, text):
            return  # the modal showed why
        outcome = decisions.send(svc, draft_id, version, actor=user, text=text)
        if outcome.message and outcome.draft is not None:
            svc.cards.notify(outcome.draft, user, outcome.message)
        if after is not None:
            after(client, user)

    for action_id, decision in ON_CLICK.items():
        app.action(action_id)(decide(decision))
    app.view(blocks.EDIT_VIEW)(then(send_edit, check=check_edit))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        kind = body.get("type") if isinstance(body, dict) else None
        if isinstance(error, StoreError):  # the host's to fix, and the line says how: no traceback needed
            logger.error("Slack request (%s) failed: %s", kind, error)
            return
        logger.error("Slack request (%s) failed", kind, exc_info=error)


def _ids(value: str) -> tuple[int, int] | None:
    try:
        return blocks.parse_button_value(value)
    except ValueError:
        return None


def _submitted_text(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return (values.get(blocks.EDIT_BLOCK, {}).get(blocks.EDIT_INPUT, {}).get("value")) or ""


def _edit_problem(text: str) -> str | None:
    """Slack's input holds at most EDIT_MAX characters; what is left must be a text Fanvue takes."""
    if len(text) > blocks.EDIT_MAX:
        return f"The reply is {len(text)} characters; at most {blocks.EDIT_MAX} fit here."
    return text_problem(text.strip())


def _refusal(svc: Services, draft_id: int, version: int, user: str) -> str | None:
    """Shown in the modal when the card was decided or changed while the teammate was editing."""
    checked = decisions.load_for_decision(svc, draft_id, version, actor=user, action="edit")
    return checked.message if isinstance(checked, Outcome) else None


def _open_editor(client, trigger_id: str, draft: Draft, offer: OfferView | None = None) -> Outcome:
    try:
        client.views_open(trigger_id=trigger_id, view=blocks.edit_modal(draft, offer))
    except SlackApiError as exc:
        # Without this the click would look ignored: Slack shows nothing when a modal fails to open.
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        logger.warning("Could not open the editor for draft %s: %s", draft.id, error)
        return Outcome(Kind.INVALID, EDITOR_FAILED.format(error=error or "no answer"))
    return Outcome(Kind.EDITING, None, draft)


def _tell(respond, client, body: dict[str, Any], outcome: Outcome) -> None:
    """Answer only the clicker: through the click's response_url, else as an ephemeral message in the channel."""
    if not outcome.message:
        return
    if body.get("response_url"):
        try:
            respond(text=outcome.message, response_type="ephemeral", replace_original=False)
            return
        except (SlackClientError, OSError) as exc:
            logger.warning(
                "Could not answer through the response URL (%s); posting an ephemeral message", exc
            )
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if not channel:
        logger.warning("No way to tell %s: %s", body.get("user", {}).get("id"), outcome.message)
        return
    try:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=outcome.message)
    except (SlackClientError, OSError) as exc:
        logger.warning("Could not tell %s (%s): %s", body["user"]["id"], exc, outcome.message)
