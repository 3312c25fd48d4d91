"""Connected installations: one live WebSocket each (the newest wins)."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from connect_share_protocol.messages import Message, encode_message


class InstallationConnection:
    __slots__ = ("_send_lock", "forwarding", "installation_id", "last_seen", "ws")

    def __init__(self, installation_id: str, ws: web.WebSocketResponse) -> None:
        self.installation_id = installation_id
        self.ws = ws
        self.last_seen = time.monotonic()
        self._send_lock = asyncio.Lock()
        # Sessions opened through this socket: only their frames are forwarded (routing.py).
        self.forwarding: set[str] = set()

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, msg: Message) -> bool:
        """Send one control message; False when the socket is gone."""
        if self.ws.closed:
            return False
        try:
            async with self._send_lock:
                await self.ws.send_str(encode_message(msg))
        except (ConnectionError, RuntimeError):
            return False
        return True


class Connections:
    def __init__(self) -> None:
        self._by_id: dict[str, InstallationConnection] = {}

    def get(self, installation_id: str) -> InstallationConnection | None:
        conn = self._by_id.get(installation_id)
        return conn if conn is not None and not conn.closed else None

    def register(self, conn: InstallationConnection) -> InstallationConnection | None:
        """Make ``conn`` current; returns the connection it replaces (caller closes it)."""
        old = self._by_id.get(conn.installation_id)
        self._by_id[conn.installation_id] = conn
        return old if old is not conn else None

    def unregister(self, conn: InstallationConnection) -> bool:
        """Forget ``conn`` if it is still current; True when the installation went offline."""
        if self._by_id.get(conn.installation_id) is conn:
            del self._by_id[conn.installation_id]
            return True
        return False

    def all(self) -> list[InstallationConnection]:
        return list(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
