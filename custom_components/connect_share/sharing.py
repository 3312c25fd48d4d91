"""Grants the hub issued, and the resident's controls over them: revoke, pause, camera switch.

A revocation (pause switch, "revoke all", a blueprint, a per-grant revoke, or the hub's own)
is applied locally first and ends running sessions before anything else happens: the gate
refuses the next frame the moment the rule state changes. The hub then hears, through the
durable outbox and in neutral words only, that grants ended; never why (pausing whenever
someone comes home must not tell the hub when the house is occupied).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from .context import InstallationContext, log_refusal
from .live import LiveSessions
from .protocol import TokenError
from .protocol.messages import NEUTRAL_REVOKE, CameraInfo, CameraSync, Error, Grant, Revoke
from .requests import RequestBook

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class GrantInfo:
    token_id: str
    request_id: str
    incident_id: str
    officer: str
    badge: str
    cameras: tuple[str, ...]
    expires_at: int


class Sharing:
    def __init__(self, ctx: InstallationContext, requests: RequestBook, live: LiveSessions) -> None:
        self.ctx = ctx
        self.requests = requests
        self.live = live
        self.grants: dict[str, GrantInfo] = {}

    # --- grants ------------------------------------------------------------------------------

    async def grant(self, msg: Grant) -> None:
        ctx = self.ctx
        try:
            grant = ctx.gate.verify(msg.token)
        except TokenError as err:
            reason = err.reason.value
            await ctx.audit.record(
                "grant_refused", {"request_id": msg.request_id, "reason": reason}
            )
            log_refusal(_LOGGER, "grant", reason, request_id=msg.request_id)
            await ctx.connection.send(Error(code="grant_refused", message="", ref=msg.request_id))
            return
        c = grant.claims
        for cam in c.cameras:
            for scope in c.scopes:
                result = ctx.gate.use(grant, cam, scope)
                if result.allowed:
                    continue
                await ctx.audit.record(
                    "grant_refused",
                    {
                        "request_id": msg.request_id,
                        "token_id": c.token_id,
                        "camera": cam,
                        "reason": result.local_reason,
                    },
                )
                log_refusal(_LOGGER, "grant", result.local_reason, token_id=c.token_id, camera=cam)
                await ctx.outbox.put(Revoke(reason=NEUTRAL_REVOKE, token_ids=[c.token_id]))
                return
        self.grants[c.token_id] = GrantInfo(
            token_id=c.token_id,
            request_id=msg.request_id,
            incident_id=c.incident_id,
            officer=c.officer_name,
            badge=c.badge,
            cameras=c.cameras,
            expires_at=c.expires_at,
        )
        await ctx.audit.record(
            "grant_accepted",
            {
                "request_id": msg.request_id,
                "token_id": c.token_id,
                "incident_id": c.incident_id,
                "officer_id": c.officer_id,
                "officer": c.officer_name,
                "badge": c.badge,
                "cameras": list(c.cameras),
                "scopes": list(c.scopes),
                "expires_at": c.expires_at,
            },
        )
        ctx.publish()

    # --- revocation ----------------------------------------------------------------------------

    async def _apply(
        self, *, source: str, reason: str, token_ids: list[str], incident_id: str | None, all_: bool
    ) -> list[str]:
        state = self.ctx.state
        if all_:
            state.revoked_before = time.time()
        state.revoked_token_ids.update(token_ids)
        if incident_id:
            state.revoked_incidents.add(incident_id)
        # Sessions first: no frame may go out after the revoke is applied.
        stopped = await self.live.stop_refused("revoked")
        for jti in list(self.grants):
            if all_ or jti in token_ids or self.grants[jti].incident_id == incident_id:
                del self.grants[jti]
        await self.ctx.state_store.save()
        await self.ctx.audit.record(
            "revoked",
            {
                "source": source,
                "reason": reason,
                "all": all_,
                "token_ids": token_ids,
                "incident_id": incident_id,
                "sessions_stopped": stopped,
            },
        )
        self.ctx.publish()
        return stopped

    async def revoke_from_hub(self, msg: Revoke) -> None:
        await self._apply(
            source="hub",
            reason=msg.reason,
            token_ids=list(msg.token_ids),
            incident_id=msg.incident_id,
            all_=msg.all,
        )

    async def revoke_all(self, reason: str = "resident_revoke_all") -> None:
        something_live = bool(self.grants or self.live.sessions or self.ctx.state.approvals)
        token_ids = sorted(self.grants)
        await self._apply(
            source="resident", reason=reason, token_ids=token_ids, incident_id=None, all_=True
        )
        self.ctx.state.approvals.clear()
        await self.ctx.state_store.save()
        await self.requests.decline_all(reason="revoked")
        if something_live:
            await self.ctx.outbox.put(Revoke(reason=NEUTRAL_REVOKE, token_ids=token_ids, all=True))

    async def revoke(self, token_id: str | None, incident_id: str | None) -> None:
        token_ids = [token_id] if token_id else []
        await self._apply(
            source="resident",
            reason="resident_revoke",
            token_ids=token_ids,
            incident_id=incident_id,
            all_=False,
        )
        await self.ctx.outbox.put(
            Revoke(reason=NEUTRAL_REVOKE, token_ids=token_ids, incident_id=incident_id)
        )

    # --- pause and per-camera switch ------------------------------------------------------------

    async def set_paused(self, until: float | None, reason: str = "paused") -> None:
        """``until`` epoch seconds, ``math.inf`` until resumed, None to resume."""
        # The state changes first: from this instant the gate refuses every frame, whatever
        # the audit write below costs (an SD card can take hundreds of milliseconds).
        self.ctx.state.paused_until = until
        if until is not None:
            await self.live.stop_refused("paused")
        await self.ctx.state_store.save()
        await self.ctx.audit.record(
            "pause" if until is not None else "resume",
            {"until": None if until in (None, math.inf) else until, "reason": reason},
        )
        if until is not None:
            # Pausing revokes what runs: the design says revocation ends sessions at once.
            await self.revoke_all(reason="paused")
        else:
            self.ctx.publish()

    async def set_camera_shared(self, camera_id: str, enabled: bool) -> None:
        state = self.ctx.state
        if enabled:
            state.sharing_disabled.discard(camera_id)
        else:
            state.sharing_disabled.add(camera_id)
            await self.live.stop_camera(camera_id, "sharing_disabled")
        await self.ctx.state_store.save()
        await self.ctx.audit.record("sharing", {"camera": camera_id, "enabled": enabled})
        await self.sync_cameras()
        self.ctx.publish()

    async def sync_cameras(self) -> None:
        ctx = self.ctx
        infos = []
        for cid, cam in ctx.cameras.settings.items():
            mode = "off" if cid in ctx.state.sharing_disabled else cam.mode
            lat, lon = (cam.lat, cam.lon) if cam.lat is not None else (ctx.home() or (None, None))
            infos.append(
                CameraInfo(
                    camera_id=cid,
                    name=ctx.cameras.name(cid),
                    mode=mode,
                    lat=lat,
                    lon=lon,
                    heading_deg=cam.heading_deg,
                    masked=bool(cam.masks),
                    scopes=sorted(cam.scopes()) if mode != "off" else [],
                )
            )
        # Not through the outbox: the full list is re-sent on every connect anyway.
        await ctx.connection.send(CameraSync(cameras=infos))
