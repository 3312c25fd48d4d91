"""Decisions, token issuing and revocation (both directions)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connect_share_protocol import MAX_TOKEN_LIFETIME_S, issue_token
from connect_share_protocol.messages import Decision, Error, Grant, Message, Revoke
from connect_share_protocol.tokens import new_claims

from . import audit
from .grant_tokens import StoredToken
from .message_ids import Mark
from .models import AccessRequestRow, GrantRow, Incident, LiveSessionRow, User
from .purposes import purpose_of
from .signing import KeyStore
from .state import Hub

_LOGGER = logging.getLogger(__name__)


def token_lifetime(scope: str, requested_s: int, default_s: int, floor_s: int = 60) -> int:
    """Live/snapshot tokens last as long as the resident allows a session (capped at 1 h);
    footage tokens last the full hour so the resident has time to pick and upload clips."""
    if scope == "clip":
        return MAX_TOKEN_LIFETIME_S
    wanted = requested_s if requested_s > 0 else default_s
    return max(floor_s, min(wanted, MAX_TOKEN_LIFETIME_S))


async def handle_decision(
    hub: Hub, installation_id: str, msg: Decision, *, mark: Mark | None = None
) -> list[Message]:
    """Record an installation's approvals in a transaction of its own (see ``decide``).

    The WebSocket path goes through ``hub.decisions`` (group commit) instead.
    ``mark`` records the message id in this transaction (``message_ids``).
    """
    keys = await hub.signing_keys()
    async with hub.db.write() as session:
        if mark is not None:
            await mark(session)
        return await decide(hub, session, keys, installation_id, msg, time.time())


@dataclass(frozen=True, slots=True)
class Loaded:
    """The rows a group of decisions needs, read with one query per table (group commit):
    each decision then finds its request, incident and officer without a round trip."""

    requests: dict[str, AccessRequestRow]
    incidents: dict[str, Incident]
    users: dict[str, User]

    @classmethod
    async def load(cls, session: AsyncSession, request_ids: Iterable[str]) -> Loaded:
        ids = list(set(request_ids))
        requests = (
            await session.scalars(select(AccessRequestRow).where(AccessRequestRow.id.in_(ids)))
        ).all()
        incident_ids = list({r.incident_id for r in requests})
        officer_ids = list({r.created_by for r in requests})
        incidents = (
            (await session.scalars(select(Incident).where(Incident.id.in_(incident_ids)))).all()
            if incident_ids
            else []
        )
        users = (
            (await session.scalars(select(User).where(User.id.in_(officer_ids)))).all()
            if officer_ids
            else []
        )
        return cls(
            {r.id: r for r in requests}, {i.id: i for i in incidents}, {u.id: u for u in users}
        )


async def decide(
    hub: Hub,
    session: AsyncSession,
    keys: KeyStore,
    installation_id: str,
    msg: Decision,
    now: float,
    *,
    flush: bool = True,
    loaded: Loaded | None = None,
) -> list[Message]:
    """Record an installation's approvals; issue one token per newly approved camera.

    Runs inside the caller's write transaction; the returned messages (a ``Grant`` per token,
    one ``Error``, or nothing) may be sent only after it commits. Only approvals are
    information: a decision naming no new camera (an old installation's decline, a repeat)
    changes nothing and is not audited, and ``final`` is not trusted to close the request
    early. The request is answered once every camera asked for is approved; otherwise the
    rest stays pending until the deadline, when the sweep closes it (``request_lapse``), so a
    decline, a pause and no answer look the same to the hub. ``flush=False`` (group commit)
    collects grant rows and audit entries for one multi-row insert per table; ``loaded``
    holds the rows it reads (otherwise each is fetched here).
    """
    req = (
        await session.get(AccessRequestRow, msg.request_id)
        if loaded is None
        else loaded.requests.get(msg.request_id)
    )
    if req is None or req.installation_id != installation_id:
        return [Error(code="unknown_request", message="no such request", ref=msg.request_id)]
    if req.status == "expired" or (req.status == "pending" and req.expires_at <= now):
        return [Error(code="request_expired", message="too late", ref=msg.request_id)]
    if req.status != "pending":
        return [Error(code="already_answered", message=req.status, ref=msg.request_id)]
    already = list(req.approved_camera_ids or [])
    # Cameras approved by an earlier, partial decision keep their tokens: only new ones.
    approved = [c for c in dict.fromkeys(msg.approved_camera_ids) if c not in already]
    if not set(approved) <= set(req.camera_ids):
        return [Error(code="bad_decision", message="approved a camera not asked for", ref=req.id)]
    if loaded is None:
        incident = await session.get(Incident, req.incident_id)
        officer = await session.get(User, req.created_by)
    else:
        incident, officer = loaded.incidents.get(req.incident_id), loaded.users.get(req.created_by)
    assert incident is not None and officer is not None  # foreign keys
    if incident.closed_at is not None:
        approved = []  # a closed incident gets no new tokens
    if not approved:
        return []  # no information: the request waits for its deadline like any other
    req.approved_camera_ids = already + approved
    if set(req.approved_camera_ids) >= set(req.camera_ids):
        req.status = "answered"
        req.answered_at = now
    await audit.append(
        hub.db,
        session,
        "request.answered",
        actor=f"installation:{installation_id}",
        installation_id=installation_id,
        incident_id=req.incident_id,
        flush=flush,
        request_id=req.id,
        scope=req.scope,
        approved_camera_ids=approved,
    )
    lifetime = token_lifetime(
        req.scope,
        msg.max_session_s,
        hub.settings.default_token_lifetime_s,
        hub.settings.min_token_lifetime_s,
    )
    window = (
        (int(req.window_start), int(req.window_end))
        if req.scope == "clip" and req.window_start is not None and req.window_end is not None
        else None
    )
    replies: list[Message] = []
    purpose = purpose_of(hub.settings, incident, req)
    # One token per approved camera: each can be revoked alone, by either side.
    for camera_id in approved:
        claims = new_claims(
            issuer=hub.issuer,
            installation_id=installation_id,
            officer_id=officer.id,
            officer_name=officer.display_name,
            badge=officer.badge,
            incident_id=incident.id,
            case_number=incident.case_number,
            cameras=[camera_id],
            scopes=[req.scope],
            lifetime_s=lifetime,
            window=window,
            now=int(now),
            purpose=purpose,
            reason=incident.reason,
        )
        token = issue_token(keys.current.private_key, keys.current.kid, claims)
        grant_row = dict(
            id=claims.token_id,
            request_id=req.id,
            incident_id=incident.id,
            installation_id=installation_id,
            officer_id=officer.id,
            camera_ids=[camera_id],
            scope=req.scope,
            window_start=req.window_start if window else None,
            window_end=req.window_end if window else None,
            kid=keys.current.kid,
            **asdict(StoredToken.of(token)),  # hash and claims, not the token
            issued_at=float(claims.issued_at),
            expires_at=float(claims.expires_at),
            max_fps=max(0.1, min(msg.max_fps, 30.0)),
            legal_basis=req.legal_basis,
        )
        bulk = session.info.get(audit.BULK_KEY)
        if not flush and bulk is not None:  # group commit: one INSERT for the whole group
            bulk.setdefault(GrantRow, []).append(grant_row)
        else:
            session.add(GrantRow(**grant_row))
        await audit.append(
            hub.db,
            session,
            "token.issued",
            actor="hub",
            installation_id=installation_id,
            incident_id=incident.id,
            flush=flush,
            token_id=claims.token_id,
            request_id=req.id,
            officer_id=officer.id,
            officer_name=officer.display_name,
            badge=officer.badge,
            case_number=incident.case_number,
            camera_ids=[camera_id],
            scope=req.scope,
            kid=keys.current.kid,
            expires_at=claims.expires_at,
            agency_id=purpose.agency_id,
            offense_code=purpose.offense_code,
            legal_basis=purpose.legal_basis,
            reason=incident.reason,
        )
        replies.append(Grant(request_id=req.id, token=token))
    return replies


async def revoke(
    hub: Hub,
    *,
    by: str,
    reason: str,
    grant_ids: list[str] | None = None,
    incident_id: str | None = None,
    installation_id: str | None = None,
    officer_id: str | None = None,
    push: bool = True,
    mark: Mark | None = None,
) -> list[str]:
    """Revoke unexpired grants matching all given filters; end their sessions at once.

    Live relays stop before anything is awaited (no frame is relayed after this call
    starts); then the database is updated and, for hub-side revocations, each installation
    concerned gets a ``revoke`` message. Returns the revoked token ids.
    """
    from .sessions import end_session  # late: sessions imports this module

    if grant_ids is None and incident_id is None and installation_id is None and not officer_id:
        raise ValueError("revoke needs a filter")
    wanted = set(grant_ids) if grant_ids is not None else None
    stopped = [
        s
        for s in list(hub.relay.sessions.values())
        if (wanted is None or s.grant_id in wanted)
        and (incident_id is None or s.incident_id == incident_id)
        and (installation_id is None or s.installation_id == installation_id)
        and (officer_id is None or s.opened_by == officer_id)
    ]
    for live in stopped:
        hub.relay.finish(live.id, "revoked")
    now = time.time()
    revoked: dict[str, list[str]] = defaultdict(list)
    async with hub.db.write() as session:
        if mark is not None:  # the installation's revoke message, recorded with its effect
            await mark(session)
        query = select(GrantRow).where(GrantRow.revoked_at.is_(None), GrantRow.expires_at > now)
        if wanted is not None:
            query = query.where(GrantRow.id.in_(wanted))
        if incident_id is not None:
            query = query.where(GrantRow.incident_id == incident_id)
        if installation_id is not None:
            query = query.where(GrantRow.installation_id == installation_id)
        if officer_id is not None:
            query = query.where(GrantRow.officer_id == officer_id)
        grants_found = (await session.scalars(query.order_by(GrantRow.issued_at))).all()
        # Sessions of these grants viewed on other instances (stopped below, before pushing).
        remote_sessions = (
            (
                await session.scalars(
                    select(LiveSessionRow.id).where(
                        LiveSessionRow.grant_id.in_([g.id for g in grants_found]),
                        LiveSessionRow.ended_at.is_(None),
                    )
                )
            ).all()
            if grants_found
            else []
        )
        for grant in grants_found:
            grant.revoked_at = now
            grant.revoked_by = by[:64]
            grant.revoke_reason = reason[:200]
            revoked[grant.installation_id].append(grant.id)
            await audit.append(
                hub.db,
                session,
                "token.revoked",
                actor=by,
                installation_id=grant.installation_id,
                incident_id=grant.incident_id,
                token_id=grant.id,
                reason=reason,
            )
    for session_id in remote_sessions:
        await hub.router.stop_remote(session_id)
    for live in stopped:
        await end_session(hub, live, "revoked", notify_installation=False)
    if push:
        for inst_id, token_ids in revoked.items():
            await hub.router.send(
                inst_id, Revoke(reason=reason, token_ids=token_ids, incident_id=incident_id)
            )
    return [jti for ids in revoked.values() for jti in ids]
