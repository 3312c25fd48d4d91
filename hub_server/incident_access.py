"""Who may see and act on an incident: its owner, its assigned officers, supervisors, admins.

Deny by default: every incident route, and every grant or session read, asks ``may_access``.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from .auth import AuthUser
from .errors import ApiError, not_found
from .models import Incident, IncidentOfficer
from .state import Hub

SUPERVISING_ROLES = ("supervisor", "admin")


async def may_access(session: AsyncSession, user: AuthUser, incident: Incident) -> bool:
    if user.role in SUPERVISING_ROLES or incident.created_by == user.id:
        return True
    assigned = await session.get(IncidentOfficer, (incident.id, user.id))
    return assigned is not None


def visible_incidents(query: Select, user: AuthUser) -> Select:
    """Narrow an ``Incident`` query to what ``user`` may see."""
    if user.role in SUPERVISING_ROLES:
        return query
    assigned = select(IncidentOfficer.incident_id).where(IncidentOfficer.user_id == user.id)
    return query.where(or_(Incident.created_by == user.id, Incident.id.in_(assigned)))


async def load_for(hub: Hub, user: AuthUser, incident_id: str) -> Incident:
    """The incident if ``user`` may see it: 404 when missing, 403 when not theirs."""
    async with hub.db.read() as session:
        inc = await session.get(Incident, incident_id)
        if inc is None:
            raise not_found("incident")
        if not await may_access(session, user, inc):
            raise ApiError(403, "not_your_incident", "the incident is not yours or assigned")
    return inc
