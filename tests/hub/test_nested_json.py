"""Issue 12 item 4: deeply nested JSON is a clear 400 / protocol error, never a 500 or a drop."""

from __future__ import annotations

from pathlib import Path

import pytest

from connect_share_protocol import ProtocolError, decode_message
from connect_share_protocol.safe_json import MAX_DEPTH, loads
from tests.hub_harness import running_hub

DEEP = "[" * 30000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/login",
        "/api/v1/installations/enroll",
        "/api/v1/summaries",
        "/api/v1/incidents",
        "/api/v1/users",
    ],
)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
async def test_deep_json_body_is_a_400(tmp_path: Path, path: str, body: str) -> None:
    async with running_hub(tmp_path, max_body_bytes=64 * 1024) as hub:
        admin = await hub.create_user(role="admin")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin.token}"}
        if path in ("/api/v1/auth/login", "/api/v1/installations/enroll", "/api/v1/summaries"):
            headers.pop("Authorization")
        async with hub.http.post(hub.url + path, data=body.encode(), headers=headers) as resp:
            reply = await resp.json(content_type=None)
            assert resp.status == 400, reply
        assert reply["error"] in ("too_deep", "bad_json"), reply
        assert "Traceback" not in reply["message"]


async def test_deep_evidence_manifest_is_a_400(tmp_path: Path) -> None:
    async with (
        running_hub(tmp_path) as hub,
        hub.http.post(
            hub.url + "/api/v1/evidence/uploads",
            data=b"[" * 10000,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 400, await resp.text()


async def test_deep_message_keeps_the_socket(tmp_path: Path) -> None:
    """Before and after authentication: an error message, and the socket stays usable."""
    async with running_hub(tmp_path) as hub:
        async with hub.http.ws_connect(hub.ws_url, heartbeat=None) as ws:
            await ws.send_str("[" * 2000)  # fits the pre-auth size limit
            reply = decode_message((await ws.receive(timeout=10)).data)
            assert reply.TYPE == "error" and reply.code == "too_deep"  # type: ignore[attr-defined]
            assert not ws.closed
        sim = await hub.simulated_installation()
        await sim.send_raw("[" * 30000)
        err = await sim.next_message("error")
        assert err.code == "too_deep"
        await sim.roundtrip()  # still served


def test_depth_limit_and_strings() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ProtocolError) as caught:
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert caught.value.code == "too_deep"
    # Brackets inside strings (with escaped quotes) do not count.
    assert loads('{"a": "' + "[" * 5000 + '\\"{{{"}') == {"a": "[" * 5000 + '"{{{'}
    with pytest.raises(ProtocolError):
        loads(b"\xff\xfe\x00")
