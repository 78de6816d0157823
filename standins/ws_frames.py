"""The server side of RFC 6455 WebSockets that Socket Mode clients need: handshake, text, ping/pong, close."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from typing import BinaryIO

# RFC 6455 section 1.3: the key the client sent plus this GUID, hashed, proves the server read the handshake.
ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# A client frame longer than this is refused: acknowledgements are small.
MAX_FRAME = 1 << 20
CLOSE_GOING_AWAY = 1001


class ClosedError(Exception):
    """The peer closed the connection, or sent something that is not a WebSocket frame."""


def accept_key(client_key: str) -> str:
    """The Sec-WebSocket-Accept value answering a client's Sec-WebSocket-Key."""
    digest = hashlib.sha1((client_key.strip() + ACCEPT_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def handshake_response(client_key: str) -> bytes:
    """The 101 answer that turns an HTTP request into a WebSocket."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(client_key)}\r\n\r\n"
    ).encode("ascii")


def encode_frame(opcode: int, data: bytes) -> bytes:
    """One final, unmasked frame (servers never mask)."""
    head = bytes([0x80 | opcode])
    if len(data) <= 125:
        head += bytes([len(data)])
    elif len(data) <= 0xFFFF:
        head += bytes([126]) + struct.pack("!H", len(data))
    else:
        head += bytes([127]) + struct.pack("!Q", len(data))
    return head + data


class WsPeer:
    """One accepted WebSocket: frames are read on the owner's thread; sends may come from any thread."""

    def __init__(self, sock: socket.socket, rfile: BinaryIO) -> None:
        self.sock = sock
        self.rfile = rfile
        self.send_lock = threading.Lock()
        self.closed = False

    def _read_exact(self, size: int) -> bytes:
        try:
            data = self.rfile.read(size) if size else b""
        except OSError as exc:
            raise ClosedError(str(exc)) from None
        if len(data) != size:
            raise ClosedError("connection closed")
        return data

    def read_frame(self) -> tuple[int, bytes]:
        """The next whole message as (opcode, payload); fragments are joined; ClosedError at the end."""
        opcode, parts = None, []
        while True:
            b1, b2 = self._read_exact(2)
            length = b2 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exact(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exact(8))
            if length > MAX_FRAME:
                raise ClosedError(f"frame of {length} bytes refused")
            mask = self._read_exact(4) if b2 & 0x80 else None
            data = self._read_exact(length)
            if mask is not None:
                data = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
            frame_op = b1 & 0x0F
            if frame_op >= OP_CLOSE:
                return frame_op, data  # control frames may arrive between fragments
            if opcode is None:
                opcode = frame_op
            parts.append(data)
            if b1 & 0x80:
                return opcode, b"".join(parts)

    def send(self, opcode: int, data: bytes) -> bool:
        """Send one frame; False when the connection is already gone."""
        with self.send_lock:
            if self.closed:
                return False
            try:
                self.sock.sendall(encode_frame(opcode, data))
                return True
            except OSError:
                return False

    def send_text(self, text: str) -> bool:
        return self.send(OP_TEXT, text.encode("utf-8"))

    def close(self, code: int = CLOSE_GOING_AWAY, reason: str = "") -> None:
        """A clean close: a close frame, then the socket is shut so the reader ends."""
        self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))
        self.abort()

    def abort(self) -> None:
        """Cut the connection without a close frame, as a network failure would."""
        with self.send_lock:
            if self.closed:
                return
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
