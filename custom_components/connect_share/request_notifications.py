"""Resident-facing notifications: persistent notifications, the optional notify target,
and the Approve / Decline actions coming back from the mobile app.

Functions take the manager and use its public state (``pending``, ``camera_names``,
``entry.options``) and its request timers; they hold no state of their own.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components import persistent_notification

from .const import ACTION_APPROVE, ACTION_DECLINE, DOMAIN, OPT_NOTIFY

if TYPE_CHECKING:
    from .manager import ConnectShareManager, PendingRequest

# Kept under the manager's logger name so existing log filters still apply.
_LOGGER = logging.getLogger(f"{__package__}.manager")


async def notify_request(
    manager: ConnectShareManager, pending: PendingRequest, footage: list[str]
) -> None:
    inc = pending.request.incident
    cams = ", ".join(manager.camera_names.get(c, c) for c in pending.askable())
    title = "Connect Share: police request"
    message = (
        f"{inc.officer_name} (badge {inc.badge}) asks for {pending.request.scope} access to "
        f"{cams} for incident {inc.case_number} ({inc.incident_type}): {inc.reason}. "
        f"Request id: {pending.request.request_id}"
    )
    if footage:
        message += (
            "\n\nYour recorded events in the requested window (after approving, pick them "
            "with the share_footage action):\n" + "\n".join(f"- {line}" for line in footage)
        )
    persistent_notification.async_create(
        manager.hass, message, title, f"{DOMAIN}_request_{pending.request.request_id}"
    )
    rid = pending.request.request_id
    send_notify(
        manager,
        title,
        message,
        {
            "tag": f"{DOMAIN}_{rid}",
            "actions": [
                {"action": f"{ACTION_APPROVE}{rid}", "title": "Approve"},
                {"action": f"{ACTION_DECLINE}{rid}", "title": "Decline"},
            ],
        },
    )


def dismiss_request_notification(manager: ConnectShareManager, request_id: str) -> None:
    if (cancel := manager._timers.pop(request_id, None)) is not None:
        cancel()
    persistent_notification.async_dismiss(manager.hass, f"{DOMAIN}_request_{request_id}")


def send_notify(
    manager: ConnectShareManager, title: str, message: str, data: dict[str, Any] | None
) -> None:
    target = (manager.entry.options.get(OPT_NOTIFY) or "").strip()
    if not target:
        return
    service = target.removeprefix("notify.")
    if not manager.hass.services.has_service("notify", service):
        _LOGGER.warning("Notify target %s does not exist", target)
        return
    payload: dict[str, Any] = {"title": title, "message": message}
    if data:
        payload["data"] = data
    manager.hass.async_create_task(
        manager.hass.services.async_call("notify", service, payload, blocking=False)
    )


def on_notify_action(manager: ConnectShareManager, event: Any) -> None:
    """Runs in the event loop (the manager's ``@callback`` listener delegates here)."""
    action = str(event.data.get("action", ""))
    for prefix, approve in ((ACTION_APPROVE, True), (ACTION_DECLINE, False)):
        if action.startswith(prefix):
            request_id = action.removeprefix(prefix)
            if request_id not in manager.pending:
                return
            coro = (
                manager.async_approve(request_id) if approve else manager.async_decline(request_id)
            )
            manager.hass.async_create_task(coro)
