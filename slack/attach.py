"""Selling from a card: the Attach button's modal (folder, ready media, price) and the Template action."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from fanvue.errors import FanvueError
from inbox import offers
from inbox.services import Services
from slack import attach_blocks as ab
from slack import blocks
from slack.handoff import RunLater, acknowledge_then
from store import drafts
from store.drafts import Draft

logger = logging.getLogger(__name__)

NOT_WAITING = "This card is no longer waiting for a decision; nothing was attached."
FANVUE_DOWN = "Fanvue could not list this creator's {what} ({error}); try again in a moment."
NO_TEMPLATES = (
    "Fanvue offers agency logins no saved templates: use Attach to put the creator's media on the card with "
    "a price, or log in with the creator's own account (`python app.py login`) to use templates."
)
LATE_REFUSAL = "Nothing was put on {fan}'s card: {problem}"
# Slack wants a modal's answer within 3 s: a check still waiting for Fanvue after this long closes the modal,
# and its outcome reaches the card (or the teammate, when refused) once Fanvue answers.
CHECK_BUDGET_SECONDS = 2.0


def register_attach(app: App, svc: Services, run_later: RunLater) -> None:
    """The card's Attach and Template buttons, the folder pick that fills the media list, and both modals."""

    def card_draft(body: dict[str, Any], action: dict[str, Any], client) -> Draft | None:
        try:
            draft_id, _ = blocks.parse_button_value(action.get("value", ""))
        except ValueError:
            return None
        draft = drafts.get(svc.store.db, draft_id)
        if draft is None:
            return None
        refused = svc.refusal(body["user"]["id"], draft.creator_handle)
        if refused or draft.status != drafts.PENDING:
            tell(client, body, draft, refused or NOT_WAITING)
            return None
        return draft

    def open_attach(body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
        draft = card_draft(body, action, client)
        if draft is None:
            return
        try:
            media = offers.media_client(svc, draft)
            if media.has_vault:
                view = ab.attach_modal(draft, list(media.folders()))
            else:  # an agency login: no folders, the creator's newest ready media at once
                ready = list(itertools.islice(media.media_list(ready=True), ab.OPTIONS_MAX))
                view = ab.attach_modal(draft, None, media=ready)
        except FanvueError as exc:
            tell(client, body, draft, FANVUE_DOWN.format(what="media", error=exc))
            return
        open_view(client, body, draft, view)

    def pick_folder(body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
        view = body.get("view") or {}
        draft = modal_draft(view)
        folder = (action.get("selected_option") or {}).get("value")
        if draft is None or not isinstance(folder, str):
            return
        try:
            client_ = offers.media_client(svc, draft)
            folders = list(client_.folders())
            media = [m for m in client_.media_list(folder=folder) if m.ready]
        except FanvueError as exc:
            logger.warning("Folder %r of draft %s not listed: %s", folder, draft.id, exc)
            return
        try:
            client.views_update(
                view_id=view.get("id"),
                hash=view.get("hash"),
                view=ab.attach_modal(draft, folders, folder, media),
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            logger.warning("The attach box was not updated: %s", exc)

    def check_attach(ack, body: dict[str, Any], view: dict[str, Any]) -> bool:
        draft = modal_draft(view)
        refused = svc.refusal(body["user"]["id"], draft.creator_handle) if draft is not None else None
        if draft is None or draft.status != drafts.PENDING or refused:
            ack(response_action="errors", errors={ab.PRICE_BLOCK: refused or NOT_WAITING})
            return False
        media, price = ab.submitted(view)
        user = body["user"]["id"]
        future = _checking(offers.check_attach, svc, draft, media, price)
        try:
            checked = future.result(timeout=CHECK_BUDGET_SECONDS)
        except FutureTimeout:
            ack()
            when_done(future, lambda late: _attach_late(svc, draft, late, user))
            return False
        if checked.problem:
            has_media = any(b.get("block_id") == ab.MEDIA_BLOCK for b in view.get("blocks") or [])
            where = ab.MEDIA_BLOCK if checked.field == "media" and has_media else ab.PRICE_BLOCK
            ack(response_action="errors", errors={where: checked.problem})
            return False
        ack()
        run_later(_attach_late, svc, draft, checked, user)
        return False

    def open_template(body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
        draft = card_draft(body, action, client)
        if draft is None:
            return
        try:
            media = offers.media_client(svc, draft)
            if not media.has_vault:
                tell(client, body, draft, NO_TEMPLATES)
                return
            templates = list(media.templates())
        except FanvueError as exc:
            tell(client, body, draft, FANVUE_DOWN.format(what="templates", error=exc))
            return
        open_view(client, body, draft, ab.template_modal(draft, templates))

    def check_template(ack, body: dict[str, Any], view: dict[str, Any]) -> bool:
        draft = modal_draft(view)
        chosen = ab.chosen_template(view)
        refused = svc.refusal(body["user"]["id"], draft.creator_handle) if draft is not None else None
        if draft is None or draft.status != drafts.PENDING or not chosen or refused:
            problem = refused or (NOT_WAITING if chosen else "Pick one.")
            ack(response_action="errors", errors={ab.TEMPLATE_BLOCK: problem})
            return False
        user = body["user"]["id"]
        future = _checking(_template_problem, svc, draft, chosen, user)
        try:
            found = future.result(timeout=CHECK_BUDGET_SECONDS)
        except FutureTimeout:
            ack()
            when_done(future, lambda late: _refused_late(svc, draft, user, late) if late else None)
            return False
        if found:
            ack(response_action="errors", errors={ab.TEMPLATE_BLOCK: found})
            return False
        ack()
        return False

    def remove_offer(body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
        draft = card_draft(body, action, client)
        if draft is None:
            return
        _, version = blocks.parse_button_value(action.get("value", ""))
        seen = draft if draft.version == version else dataclasses.replace(draft, version=version)
        problem = offers.remove_offer(svc, seen, body["user"]["id"])
        if problem:
            tell(client, body, draft, problem)

    app.action(ab.REMOVE_OFFER)(acknowledge_then(run_later, remove_offer))
    app.action(ab.ATTACH)(acknowledge_then(run_later, open_attach))
    app.action(ab.TEMPLATE)(acknowledge_then(run_later, open_template))
    app.action(ab.FOLDER_PICK)(acknowledge_then(run_later, pick_folder))
    app.view(ab.ATTACH_VIEW)(acknowledge_then(run_later, _nothing, check_attach))
    app.view(ab.TEMPLATE_VIEW)(acknowledge_then(run_later, _nothing, check_template))

    def modal_draft(view: dict[str, Any]) -> Draft | None:
        try:
            draft_id = int(json.loads(view.get("private_metadata") or "{}")["draft_id"])
        except (TypeError, KeyError, ValueError, OverflowError):
            return None
        return drafts.get(svc.store.db, draft_id) if 0 <= draft_id < 2**63 else None


def _template_problem(svc: Services, draft: Draft, chosen: str, user: str) -> str | None:
    """Put the chosen template on the card; what prevents it, if anything."""
    try:
        template = next((t for t in offers.media_client(svc, draft).templates() if t.uuid == chosen), None)
    except FanvueError as exc:
        return f"Fanvue did not answer ({exc})."
    if template is None:
        return "This template is gone."
    return offers.use_template(svc, draft, template, user)


def _checking(check: Callable[..., Any], *args: Any) -> Future:
    """Run a box's check on a thread of its own, which ends with the check (none lingers after a stop)."""
    future: Future = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(check(*args))
            except BaseException as exc:  # the waiting listener, or when_done, logs it
                future.set_exception(exc)

    threading.Thread(target=run, name="modal-check", daemon=True).start()
    return future


def when_done(future: Future, then: Callable[[Any], object]) -> None:
    """`then(result)` once a check that outlived Slack's wait ends (a failure is logged, never lost)."""

    def finish(done: Future) -> None:
        try:
            then(done.result())
        except Exception:
            logger.exception("Finishing a check that outlived Slack's wait failed")

    future.add_done_callback(finish)


def _attach_late(svc: Services, draft: Draft, checked: offers.Checked, user: str) -> None:
    """The verdict on an offer after the modal closed: on the card, or told to the teammate."""
    problem = checked.problem or offers.attach_checked(svc, draft, checked, user)
    if problem:
        _refused_late(svc, draft, user, problem)


def _refused_late(svc: Services, draft: Draft, user: str, problem: str) -> None:
    svc.cards.notify(draft, user, LATE_REFUSAL.format(fan=draft.fan_name, problem=problem))


def _nothing(*_: Any) -> None:
    """The check did the work before acknowledging: the modal shows its problems."""


def open_view(client, body: dict[str, Any], draft: Draft, view: dict[str, Any]) -> None:
    try:
        client.views_open(trigger_id=body.get("trigger_id", ""), view=view)
    except (SlackApiError, SlackClientError, OSError) as exc:
        tell(client, body, draft, f"Slack could not open the box ({type(exc).__name__}); try again.")


def tell(client, body: dict[str, Any], draft: Draft, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=draft.channel or "", user=body["user"]["id"], text=text)
    except (SlackApiError, SlackClientError, OSError) as exc:
        logger.warning("Could not tell the teammate: %s", exc)
