"""Take and the Home tab in Socket Mode: Bolt's real SocketModeHandler connected to the Slack stand-in."""

from __future__ import annotations

from slack import blocks
from slack.home_blocks import TAKE_NEXT
from slack.take_blocks import TAKE
from standins.slack_envelopes import app_home_opened_event
from standins.slack_home import home_action_payload
from store import drafts
from tests.test_socket_mode import WAIT, SocketApp, app  # noqa: F401  (the fixture)


def test_take_over_the_socket_then_another_teammates_send_is_refused(app: SocketApp):  # noqa: F811
    draft = app.draft()
    socket = app.slack.socket
    socket.wait_ack(socket.deliver_interactive(app.click(draft, TAKE, "U0ALICE")), WAIT)
    app.settle()
    assert drafts.get(app.store.db, draft.id).taker == "U0ALICE"
    socket.wait_ack(socket.deliver_interactive(app.click(draft, blocks.SEND, "U0BOB")), WAIT)
    app.settle()
    assert app.sent(draft) == []
    [told] = [r.get("text", "") for r in app.slack.responses()]
    assert "<@U0ALICE> has this card" in told


def test_home_tab_opened_over_the_socket_is_acknowledged_once_and_published(app: SocketApp):  # noqa: F811
    draft = app.draft()
    socket = app.slack.socket
    envelope = socket.deliver_event(app_home_opened_event("U0ALICE"))
    assert socket.wait_ack(envelope, WAIT) == {"envelope_id": envelope}
    app.settle()
    assert socket.envelope(envelope)["deliveries"] == 1  # acknowledged: Slack does not deliver it again
    view = app.slack.state.home_views["U0ALICE"]
    assert view["type"] == "home" and draft.fan_name in str(view["blocks"])
    press = socket.deliver_interactive(home_action_payload("U0ALICE", view, TAKE_NEXT))
    socket.wait_ack(press, WAIT)
    app.settle()
    [taken] = [d for d in drafts.with_status(app.store.db, drafts.PENDING) if d.taker]
    assert taken.taker == "U0ALICE"
    assert "You took the card for" in str(app.slack.state.home_views["U0ALICE"]["blocks"][0])
