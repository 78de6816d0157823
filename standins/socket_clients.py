"""Closing slack_sdk's built-in Socket Mode clients quickly and cleanly at the end of a test."""

from __future__ import annotations

from slack_sdk.socket_mode.builtin import SocketModeClient

from standins.slack_socket import SocketMode


def close_clients(socket: SocketMode, *clients: SocketModeClient, timeout: float = 10.0) -> None:
    """Stop reconnecting, let the stand-in close each connection, then close the clients.

    Closing from the client alone waits out its 3 s receive timeout, and can race its own receive thread
    closing the same socket; a close frame from the server ends the receive loop at once.
    """
    for client in clients:
        client.auto_reconnect_enabled = client.default_auto_reconnect_enabled = False
    socket.drop_connections(close_frame=True)
    for client in clients:
        socket.wait_until(lambda c=client: not c.is_connected(), timeout, "the client to see the close")
        client.closed = True
        client.message_queue.put(None)  # wakes the message loop, which else waits a second for the next
        client.close()
