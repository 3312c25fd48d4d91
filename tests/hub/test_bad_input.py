"""Bad input gets a clear 4xx with a reason, and nothing is half-written."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from connect_share_protocol import generate_private_key, public_key_to_b64
from tests.hub_harness import HubHarness, camera, running_hub

HOME = (33.7490, -84.3880)
GOOD_INCIDENT = {
    "case_number": "2026-7",
    "incident_type": "burglary",
    "offense_code": "220",
    "reason": "Break-in reported by the shop owner",
    "lat": HOME[0],
    "lon": HOME[1],
    "radius_m": 250,
}


async def audit_length(hub: HubHarness) -> int:
    return (await hub.verify_audit()).entries


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"radius_m": 0}, "out_of_range"),
        ({"radius_m": 500_000}, "out_of_range"),
        ({"radius_m": -5}, "out_of_range"),
        ({"radius_m": "300"}, "bad_field"),
        ({"radius_m": True}, "bad_field"),
        ({"case_number": None}, "missing_field"),
        ({"case_number": "   "}, "missing_field"),
        ({"reason": None}, "missing_field"),
        ({"lat": 91}, "out_of_range"),
        ({"lon": "x"}, "bad_field"),
        ({"incident_type": "Drop Table"}, "bad_field"),
        ({"extra": 1}, "unknown_field"),
        ({"window_start": 10}, "bad_window"),
        ({"window_start": 20, "window_end": 10}, "bad_window"),
    ],
)
async def test_bad_incident_is_refused_and_not_written(
    tmp_path: Path, change: dict, code: str
) -> None:
    async with running_hub(tmp_path) as hub:
        api = hub.client(await hub.create_user(role="officer"))
        before = await audit_length(hub)
        body = {k: v for k, v in {**GOOD_INCIDENT, **change}.items() if v is not None}
        if change.get("case_number", "") is None:
            body.pop("case_number", None)
        status, reply = await api.call("POST", "/api/v1/incidents", body)
        assert status == 400, reply
        assert reply["error"] == code and reply["message"]
        assert (await api.expect(200, "GET", "/api/v1/incidents"))["incidents"] == []
        assert await audit_length(hub) == before


async def test_malformed_bodies(tmp_path: Path) -> None:
    async with running_hub(tmp_path, max_body_bytes=4096) as hub:
        user = await hub.create_user(role="officer")
        headers = {"Authorization": f"Bearer {user.token}"}
        url = hub.url + "/api/v1/incidents"
        cases = [
            (b"{not json", "application/json", 400, "bad_json"),
            (b"[1, 2]", "application/json", 400, "bad_json"),
            (b'"text"', "application/json", 400, "bad_json"),
            (json.dumps(GOOD_INCIDENT).encode(), "text/plain", 415, "unsupported_media_type"),
            (b'{"reason": "' + b"x" * 10_000 + b'"}', "application/json", 413, "body_too_large"),
            (b"\xff\xfe\x00", "application/json", 400, "bad_json"),
        ]
        for data, content_type, status, code in cases:
            async with hub.http.post(
                url, data=data, headers={**headers, "Content-Type": content_type}
            ) as resp:
                body = await resp.json()
                assert (resp.status, body["error"]) == (status, code), (data[:20], body)
        async with hub.http.get(hub.url + "/api/v1/nope") as resp:
            assert resp.status == 404 and (await resp.json())["error"] == "not_found"
        async with hub.http.put(hub.url + "/api/v1/incidents", headers=headers) as resp:
            assert resp.status == 405 and (await resp.json())["error"] == "method_not_allowed"


async def test_authentication_and_roles(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        anonymous = hub.client()
        status, body = await anonymous.call("GET", "/api/v1/incidents")
        assert (status, body["error"]) == (401, "not_authenticated")
        status, body = await anonymous.call(
            "GET", "/api/v1/incidents", headers={"Authorization": "Bearer nope"}
        )
        assert (status, body["error"]) == (401, "bad_token")
        status, body = await anonymous.call(
            "GET", "/api/v1/incidents", headers={"Authorization": "Basic eDp5"}
        )
        assert (status, body["error"]) == (401, "bad_authorization")
        officer = hub.client(await hub.create_user(role="officer"))
        for method, path in (
            ("GET", "/api/v1/users"),
            ("GET", "/api/v1/audit"),
            ("GET", "/api/v1/installations"),
            ("POST", "/api/v1/sessions"),
        ):
            status, body = await officer.call(method, path, {})
            assert (status, body["error"]) == (403, "wrong_role"), path
        analyst = hub.client(await hub.create_user(role="analyst"))
        status, body = await analyst.call("POST", "/api/v1/enrollment-codes", {})
        assert (status, body["error"]) == (403, "wrong_role")


async def test_every_route_has_a_policy(tmp_path: Path) -> None:
    from hub_server.auth import handler_policy

    async with running_hub(tmp_path) as hub:
        for route in hub.app.router.routes():
            assert handler_policy(route.handler) is not None, route


async def test_enrollment_codes(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:

        async def enroll(code: str, key: str | None = None, **extra: object) -> tuple[int, dict]:
            body = {
                "code": code,
                "public_key": key or public_key_to_b64(generate_private_key().public_key()),
                "name": "House",
                "client_version": "1",
                **extra,
            }
            return await hub.client().call("POST", "/api/v1/installations/enroll", body)

        assert (await enroll("AAAAA-BBBBB-CCCCC-DDDDD"))[1]["error"] == "invalid_code"
        code = await hub.new_enrollment_code()
        status, body = await enroll(code, key="not-a-key")
        assert (status, body["error"]) == (400, "bad_public_key")
        status, body = await enroll(code, extra="x")
        assert (status, body["error"]) == (400, "unknown_field")
        # The refused attempts did not use up the code; lower case and no dashes work too.
        status, body = await enroll(code.lower().replace("-", ""))
        assert status == 201 and body["ws_path"] == "/api/v1/installations/ws"
        assert body["jwks"]["keys"][0]["alg"] == "EdDSA"
        status, body = await enroll(code)
        assert (status, body["error"]) == (403, "code_used")

        db = hub.state.db
        from hub_server import enrollment

        async with db.write() as session:
            expired, _ = await enrollment.create_code(
                db, session, ttl_s=60, created_by=None, now=1_000_000.0
            )
        status, body = await enroll(expired)
        assert (status, body["error"]) == (403, "code_expired")

        officer = hub.client(await hub.create_user(role="officer"))
        made = await officer.expect(201, "POST", "/api/v1/enrollment-codes", {"ttl_s": 600})
        assert len(made["code"]) == 23
        status, body = await officer.call("POST", "/api/v1/enrollment-codes", {"ttl_s": 5})
        assert (status, body["error"]) == (400, "out_of_range")


async def test_access_requests_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation(
            [
                camera("live", 33.7495, -84.3880),
                camera("reg", 33.7495, -84.3881, mode="registered"),
                camera("far", 33.80, -84.3880),
                camera("snap-only", 33.7495, -84.3882, scopes=["snapshot"]),
            ]
        )
        analyst = hub.client(await hub.create_user(role="analyst"))
        inc = (await analyst.expect(201, "POST", "/api/v1/incidents", GOOD_INCIDENT))["incident"]
        path = f"/api/v1/incidents/{inc['incident_id']}/requests"
        inst = sim.installation_id
        cases = [
            ({"scope": "live", "cameras": []}, "missing_field"),
            (
                {"scope": "x-ray", "cameras": [{"installation_id": inst, "camera_id": "live"}]},
                "bad_field",
            ),
            ({"scope": "live", "cameras": ["live"]}, "bad_field"),
            (
                {"scope": "live", "cameras": [{"installation_id": inst, "camera_id": "far"}]},
                "camera_not_in_incident",
            ),
            (
                {"scope": "live", "cameras": [{"installation_id": "nope", "camera_id": "live"}]},
                "camera_not_in_incident",
            ),
            (
                {
                    "scope": "live",
                    "cameras": [
                        {"installation_id": inst, "camera_id": "live"},
                        {"installation_id": inst, "camera_id": "reg"},
                    ],
                },
                "camera_not_integrated",
            ),
            (
                {"scope": "live", "cameras": [{"installation_id": inst, "camera_id": "snap-only"}]},
                "scope_not_offered",
            ),
            (
                {"scope": "clip", "cameras": [{"installation_id": inst, "camera_id": "reg"}]},
                "bad_window",
            ),
            (
                {
                    "scope": "live",
                    "window_start": 1,
                    "window_end": 2,
                    "cameras": [{"installation_id": inst, "camera_id": "live"}],
                },
                "bad_window",
            ),
        ]
        before = await audit_length(hub)
        for body, code in cases:
            status, reply = await analyst.call("POST", path, body)
            assert (status, reply["error"]) == (400, code), body
        assert (await analyst.incident(inc["incident_id"]))["requests"] == []
        assert await audit_length(hub) == before
        status, reply = await analyst.call("POST", "/api/v1/incidents/nope/requests", cases[0][0])
        assert (status, reply["error"]) == (404, "not_found")


async def test_websocket_rejects_bad_authentication(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([], connect=False)

        async def exchange(ws: aiohttp.ClientWebSocketResponse, msg: dict) -> dict:
            await ws.send_str(json.dumps({"v": 1, **msg}))
            return json.loads((await ws.receive(timeout=10)).data)

        # Unknown installation: error, then the hub closes.
        async with hub.http.ws_connect(hub.ws_url) as ws:
            reply = await exchange(
                ws, {"type": "hello", "installation_id": "ghost", "client_version": "1"}
            )
            assert reply == {
                "v": 1,
                "type": "error",
                "code": "unknown_installation",
                "message": "not enrolled here",
                "ref": None,
            }
            assert (await ws.receive(timeout=10)).type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
            )

        # Malformed messages before auth: an error each, and the socket stays open.
        async with hub.http.ws_connect(hub.ws_url) as ws:
            await ws.send_str("{broken")
            assert json.loads((await ws.receive(timeout=10)).data)["code"] == "bad_json"
            reply = await exchange(ws, {"type": "ping", "ts": 1})
            assert reply["code"] == "not_authenticated"
            hello = {"type": "hello", "installation_id": sim.installation_id, "client_version": "1"}
            challenge = await exchange(ws, hello)
            assert challenge["type"] == "challenge"
            other_key = generate_private_key()
            from connect_share_protocol import sign_auth_challenge

            bad = sign_auth_challenge(other_key, sim.installation_id, challenge["nonce"])
            reply = await exchange(
                ws,
                {
                    "type": "auth",
                    "installation_id": sim.installation_id,
                    "nonce": challenge["nonce"],
                    "signature": bad,
                },
            )
            assert reply["code"] == "bad_signature"

        # Replaying a signed challenge from an earlier connection does not work.
        async with hub.http.ws_connect(hub.ws_url) as ws:
            first = await exchange(ws, hello)
            from connect_share_protocol import sign_auth_challenge

            signed = sign_auth_challenge(sim.key, sim.installation_id, first["nonce"])
        async with hub.http.ws_connect(hub.ws_url) as ws:
            await exchange(ws, hello)  # a fresh nonce is issued
            reply = await exchange(
                ws,
                {
                    "type": "auth",
                    "installation_id": sim.installation_id,
                    "nonce": first["nonce"],
                    "signature": signed,
                },
            )
            assert reply["code"] == "challenge_expired"

        # Auth before hello.
        async with hub.http.ws_connect(hub.ws_url) as ws:
            reply = await exchange(
                ws,
                {
                    "type": "auth",
                    "installation_id": sim.installation_id,
                    "nonce": "n",
                    "signature": "s",
                },
            )
            assert reply["code"] == "unexpected_message"


async def test_authenticated_socket_survives_malformed_messages(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        sim = await hub.simulated_installation([camera("cam", *HOME)])
        for raw, code in (
            ("{nope", "bad_json"),
            ('{"v": 1, "type": "warp"}', "unknown_type"),
            ('{"v": 2, "type": "ping", "ts": 1}', "bad_version"),
            ('{"v": 1, "type": "ping"}', "missing_field"),
            ('{"v": 1, "type": "ping", "ts": "x"}', "bad_field"),
            (
                '{"v": 1, "type": "hello", "installation_id": "x", "client_version": "1"}',
                "unexpected_message",
            ),
            (
                '{"v": 1, "type": "camera_sync", "cameras": '
                '[{"camera_id": "a", "name": "a", "mode": "sideways"}]}',
                "bad_field",
            ),
            (
                '{"v": 1, "type": "decision", "request_id": "nope", "approved_camera_ids": []}',
                "unknown_request",
            ),
        ):
            await sim.send_raw(raw)
            assert (await sim.next_message("error")).code == code, raw
        await sim.send_raw(b"not a frame")
        assert (await sim.next_message("error")).code == "bad_frame"
        await sim.roundtrip()  # still connected and answering
        # The rejected camera_sync did not replace the cameras.
        officer = hub.client(await hub.create_user(role="officer"))
        cams = (await officer.expect(200, "GET", "/api/v1/cameras"))["cameras"]
        assert [c["camera_id"] for c in cams] == ["cam"]


async def test_login_cookie_csrf_and_rate_limit(tmp_path: Path) -> None:
    async with running_hub(tmp_path, login_max_failures=3) as hub:
        user = await hub.create_user(role="officer")
        console, http = await hub.login(user)
        try:
            me = await console.expect(200, "GET", "/api/v1/auth/me")
            assert me["user"]["username"] == user.username
            no_csrf = {"X-CSRF-Token": "wrong"}
            status, body = await console.call(
                "POST", "/api/v1/incidents", GOOD_INCIDENT, headers=no_csrf
            )
            assert (status, body["error"]) == (403, "csrf")
            await console.expect(201, "POST", "/api/v1/incidents", GOOD_INCIDENT)
            await console.expect(200, "POST", "/api/v1/auth/logout")
            status, _ = await console.call("GET", "/api/v1/auth/me")
            assert status == 401
        finally:
            await http.close()

        anonymous = hub.client()
        wrong = {"username": user.username, "password": "not the password at all"}
        for _ in range(3):
            status, body = await anonymous.call("POST", "/api/v1/auth/login", wrong)
            assert (status, body["error"]) == (401, "bad_credentials")
        right = {"username": user.username, "password": user.password}
        status, body = await anonymous.call("POST", "/api/v1/auth/login", right)
        assert (status, body["error"]) == (429, "too_many_attempts") and body["retry_after"] > 0
        status, body = await anonymous.call(
            "POST", "/api/v1/auth/login", {"username": "nobody", "password": "x"}
        )
        # Another username from the same address is not locked out (issue 12 item 7).
        assert (status, body["error"]) == (401, "bad_credentials")
        entries = [
            e["action"] for e in await hub.client(await hub.create_user(role="admin")).audit()
        ]
        assert entries.count("login.failed") == 4 and "login" in entries


async def test_admin_creates_users_with_checks(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        admin = hub.client(await hub.create_user(role="admin"))
        good = {"username": "sam", "password": "a long enough password", "role": "analyst"}
        await admin.expect(201, "POST", "/api/v1/users", good)
        for change, code, status in (
            ({}, "username_taken", 409),
            ({"username": "Bad Name"}, "bad_username", 400),
            ({"username": "sam2", "password": "short"}, "weak_password", 400),
            ({"username": "sam3", "role": "chief"}, "bad_field", 400),
        ):
            got, body = await admin.call("POST", "/api/v1/users", {**good, **change})
            assert (got, body["error"]) == (status, code)
        names = [u["username"] for u in (await admin.expect(200, "GET", "/api/v1/users"))["users"]]
        assert "sam" in names and "sam2" not in names


async def test_hostile_strings_and_ids(tmp_path: Path, database_url: str) -> None:
    """NUL bytes, lone surrogates, odd ids and huge numbers: 4xx, never a database error."""
    async with running_hub(tmp_path, database_url=database_url) as hub:
        sup = await hub.create_user(role="supervisor")
        api = hub.client(sup)
        for bad in ("2026\u00000001", "\ud800"):
            status, body = await api.call(
                "POST", "/api/v1/incidents", {**GOOD_INCIDENT, "case_number": bad}
            )
            assert (status, body["error"]) == (400, "bad_field")
        for path in (
            "/api/v1/incidents/%00",
            "/api/v1/incidents/" + "a" * 500,
            "/api/v1/grants/%ED%A0%80",
            "/api/v1/sessions/x/stream",
        ):
            status, body = await api.call("GET", path)
            assert (status, body["error"]) == (404, "not_found"), path
        status, body = await api.call("GET", "/api/v1/audit?since_seq=99999999999")
        assert (status, body["error"]) == (400, "out_of_range")
        status, body = await api.call("GET", "/api/v1/audit?incident_id=%00")
        assert (status, body["error"]) == (400, "bad_field")
        status, body = await api.call("GET", "/api/v1/incidents", headers={"X-CSRF-Token": "é"})
        assert status == 200
        async with hub.http.get(
            hub.url + "/api/v1/incidents", headers={"Authorization": "Bearer caf\u00e9"}
        ) as resp:
            assert resp.status == 401

        sim = await hub.simulated_installation([camera("cam", *HOME)])
        await sim.send_raw('{"v": 1, "type": "audit_fetch", "since_seq": 99999999999999}')
        assert (await sim.next_message("audit_entries")).entries == []
        await sim.send_raw(
            '{"v": 1, "type": "camera_sync", "cameras": '
            '[{"camera_id": "a\\u0000", "name": "x", "mode": "auto"}]}'
        )
        assert (await sim.next_message("error")).code == "bad_field"
        await sim.send_raw(
            '{"v": 1, "type": "decision", "request_id": "\\u0000", "approved_camera_ids": []}'
        )
        assert (await sim.next_message("error")).code == "unknown_request"
        await sim.roundtrip()
        async with hub.http.ws_connect(hub.ws_url) as ws:
            await ws.send_str(
                '{"v":1,"type":"hello","installation_id":"\\u0000","client_version":"1"}'
            )
            assert json.loads((await ws.receive(timeout=10)).data)["code"] == "unknown_installation"
