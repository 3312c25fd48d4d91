"""Retention of credentials (issue 14): console sign-in sessions, API tokens and enrollment
codes go once their expiry, revocation or use is more than the period ago; the rest stay,
including the credentials in use. Through the admin API, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from hub_server.enrollment import code_hash
from hub_server.models import ApiToken, EnrollmentCode, WebSession
from tests.hub_harness import running_hub

DAY = 86400.0


async def test_credentials_go_after_their_period_and_zero_keeps_them(
    tmp_path: Path, database_url: str
) -> None:
    async with running_hub(tmp_path, database_url=database_url) as hub:
        db = hub.state.db
        now = time.time()
        old, recent = now - 40 * DAY, now - 10 * DAY
        admin = await hub.create_user(role="admin")  # its token is in use: kept
        api = hub.client(admin)

        async def set_rows(model: Any, key: Any, value: str, **values: float) -> None:
            async with db.write() as s:
                await s.execute(update(model).where(key == value).values(**values))

        async def set_code(name: str, **values: float) -> None:
            key = code_hash(codes[name])
            await set_rows(EnrollmentCode, EnrollmentCode.code_hash, key, **values)

        codes = {name: await hub.new_enrollment_code() for name in ("expired", "used", "recent")}
        codes["fresh"] = await hub.new_enrollment_code()
        await set_code("expired", expires_at=old)
        await set_code("used", used_at=old)
        await set_code("recent", expires_at=recent)

        officers = {name: await hub.create_user() for name in ("expired", "revoked", "recent")}
        tokens: dict[str, str] = {}
        async with db.read() as s:
            for name, user in officers.items():
                tokens[name] = (
                    await s.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id))
                ).one()
        await set_rows(ApiToken, ApiToken.id, tokens["expired"], expires_at=old)
        await set_rows(ApiToken, ApiToken.id, tokens["revoked"], revoked_at=old)
        await set_rows(ApiToken, ApiToken.id, tokens["recent"], revoked_at=recent)

        sessions = []
        for _ in range(2):
            _client, http = await hub.login(admin)
            await http.close()
        async with db.read() as s:
            sessions = list((await s.scalars(select(WebSession.token_hash))).all())
        assert len(sessions) == 2
        await set_rows(WebSession, WebSession.token_hash, sessions[0], expires_at=old)

        result = await api.expect(200, "POST", "/api/v1/admin/retention/run")
        assert result["deleted"]["credentials"] == 5, result

        async with db.read() as s:
            left_codes = set((await s.scalars(select(EnrollmentCode.code_hash))).all())
            left_tokens = set((await s.scalars(select(ApiToken.id))).all())
            left_sessions = set((await s.scalars(select(WebSession.token_hash))).all())
        assert left_codes == {code_hash(codes["recent"]), code_hash(codes["fresh"])}
        assert tokens["recent"] in left_tokens
        assert not {tokens["expired"], tokens["revoked"]} & left_tokens
        assert left_sessions == {sessions[1]}
        [entry] = [
            e
            for e in await hub.wait_for_audit("retention.deleted")
            if e["detail"]["kind"] == "credentials"
        ]
        detail = entry["detail"]
        assert detail["tables"] == {"web_sessions": 1, "api_tokens": 2, "enrollment_codes": 2}
        assert (detail["count"], detail["period_days"], detail["groups"]) == (5, 30, [])
        # Credentials are not accesses: the public counts do not include them.
        public = await hub.client().expect(200, "GET", "/transparency.json")
        assert "credentials" in {p["kind"] for p in public["retention"]}
        assert not any(row.get("deleted_by_retention") for row in public.get("rows", []))

        # 0 days keeps them: nothing more goes, however old.
        await api.expect(200, "PUT", "/api/v1/admin/retention", {"periods": {"credentials": 0}})
        await set_code("recent", expires_at=old)
        result = await api.expect(200, "POST", "/api/v1/admin/retention/run")
        assert result["deleted"]["credentials"] == 0
        async with db.read() as s:
            assert await s.get(EnrollmentCode, code_hash(codes["recent"])) is not None
        assert (await hub.verify_audit()).ok
