"""The resident's promises, attacked (issue 10): each test is what a hostile officer, a dying
hub or a full disk would do. Real Home Assistant test instance, real camera entities, the
protocol-faithful fake hub on 127.0.0.1 (see fake_hub.py)."""

from __future__ import annotations

import asyncio
import errno
import time
from pathlib import Path

import pytest
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.connect_share import audit_log as audit_log_module
from custom_components.connect_share import hub_client
from custom_components.connect_share import live as live_module
from custom_components.connect_share.audit_log import AuditLog, AuditWriteFailed
from custom_components.connect_share.const import DOMAIN
from custom_components.connect_share.protocol.messages import (
    NEUTRAL_REASONS,
    SessionOpen,
    new_session_id,
)

from .conftest import camera_options, enroll, set_cameras, until
from .fake_hub import FakeHub
from .helpers import audit_actions

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "cameras", "config_dir")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_client, "backoff_delay", lambda attempt: 0.02)


async def _setup(hass: HomeAssistant, hub: FakeHub, **front: object):
    entry = await enroll(hass, hub.url, hub.new_code())
    await set_cameras(
        hass,
        entry,
        {
            "camera.front": camera_options("on_request", **front),
            "camera.back": camera_options("on_request"),
        },
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "connection")
    await hub.wait_for("camera_sync", lambda m: len(m.cameras) == 2)
    return entry


async def _approved(hass: HomeAssistant, hub: FakeHub, entry, scope: str = "live"):
    incident = hub.incident()
    request = hub.request(incident, ["camera.front"], scope=scope)
    await hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    return incident, request, hub.token(incident, ["camera.front"], scope=scope)


def _hub_saw(hub: FakeHub, start: int = 0) -> list[str]:
    """Every reason the hub was ever given, from any message."""
    return [
        m.reason
        for m in hub.received[start:]
        if m.TYPE in ("session_close", "revoke", "decision")
        if hasattr(m, "reason")
    ]


# --- 1. refusals and ends reach the hub only in neutral words --------------------------------


async def test_outside_schedule_is_neutral_for_sessions_and_snapshots(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    incident, _req, token = await _approved(hass, fake_hub, entry)
    _i2, _r2, snap_token = await _approved(hass, fake_hub, entry, scope="snapshot")
    # Now the resident's schedule excludes this minute (a window that ended a minute ago).
    now = time.localtime()
    past = f"{(now.tm_hour - 2) % 24:02d}:00-{(now.tm_hour - 1) % 24:02d}:00"
    await set_cameras(
        hass,
        entry,
        {
            "camera.front": camera_options("on_request", schedule=past),
            "camera.back": camera_options("on_request"),
        },
    )
    await until(lambda: entry.runtime_data.connection.is_connected, "reconnected")
    start = len(fake_hub.received)
    for tok, scope in ((token, "live"), (snap_token, "snapshot")):
        await fake_hub.send(
            SessionOpen(
                session_id=new_session_id(), token=tok, camera_id="camera.front", scope=scope
            )
        )
    await fake_hub.wait_for("session_close", lambda m: True, start=start)
    await until(lambda: len(_hub_saw(fake_hub, start)) == 2, "both refusals")
    assert _hub_saw(fake_hub, start) == ["unavailable", "unavailable"]
    local = [
        e.detail["reason"]
        for e in entry.runtime_data.audit.entries
        if e.action == "session_refused"
    ]
    assert local[-2:] == ["outside_schedule", "outside_schedule"]
    assert fake_hub.binary_frames == []


async def test_pause_with_a_slow_audit_disk_sends_no_reason(
    hass: HomeAssistant, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SD card that takes 300 ms per write: the pause must still leak nothing."""
    entry = await _setup(hass, fake_hub)
    _incident, _req, token = await _approved(hass, fake_hub, entry)
    sid = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=sid, token=token, camera_id="camera.front", scope="live", fps=10)
    )
    await fake_hub.wait_frames(1)
    real_append = AuditLog.append

    def slow_append(self, *args, **kwargs):
        time.sleep(0.3)
        return real_append(self, *args, **kwargs)

    monkeypatch.setattr(AuditLog, "append", slow_append)
    start = len(fake_hub.received)
    await hass.services.async_call(DOMAIN, "pause_sharing", {}, blocking=True)
    closed = await fake_hub.wait_for("session_close", lambda m: m.session_id == sid)
    await fake_hub.wait_for("revoke", start=start)
    assert set(_hub_saw(fake_hub)) <= NEUTRAL_REASONS
    assert "paused" not in repr(fake_hub.received)
    assert closed.frames_sent == len(fake_hub.binary_frames)
    stopped = [e for e in entry.runtime_data.audit.entries if e.action == "session_closed"]
    assert stopped[-1].detail["reason"] == "paused"  # the resident's own log says why


# --- 2. a decline, a pause, an unshared camera and no answer look the same ------------------


async def test_decline_pause_unshared_and_silence_are_indistinguishable(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    inst = entry.runtime_data
    start = len(fake_hub.received)
    declined = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(declined)
    await until(lambda: declined.request_id in inst.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "decline_request", {"request_id": declined.request_id}, blocking=True
    )
    unanswered = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(unanswered)
    await until(lambda: unanswered.request_id in inst.pending, "pending")
    await inst.async_set_sharing("camera.back", False)
    unshared = fake_hub.request(fake_hub.incident(), ["camera.back"])
    await fake_hub.send(unshared)
    await until(lambda: unshared.request_id in inst.requests.known, "handled")
    await hass.services.async_call(DOMAIN, "pause_sharing", {}, blocking=True)
    while_paused = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(while_paused)
    await until(lambda: while_paused.request_id in inst.requests.known, "handled")
    await asyncio.sleep(0.2)
    # Not one message about any of the four requests: the hub lets each lapse alike.
    about = {
        declined.request_id,
        unanswered.request_id,
        unshared.request_id,
        while_paused.request_id,
    }
    assert [m for m in fake_hub.received[start:] if getattr(m, "request_id", None) in about] == []


async def test_partial_approval_is_never_final(hass: HomeAssistant, fake_hub: FakeHub) -> None:
    """Final only when every camera is approved: a refused camera must not close early."""
    entry = await _setup(hass, fake_hub)
    request = fake_hub.request(fake_hub.incident(), ["camera.front", "camera.back"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN,
        "approve_request",
        {"request_id": request.request_id, "cameras": ["camera.front"]},
        blocking=True,
    )
    decision = await fake_hub.wait_for("decision")
    assert decision.approved_camera_ids == ["camera.front"] and decision.final is False


# --- 3 and 4. nothing is lost while the hub is away; replays count once ----------------------


async def test_decisions_and_revokes_made_offline_reach_the_hub_once(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    inst = entry.runtime_data
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in inst.pending, "pending")
    await fake_hub.stop()
    await until(lambda: not inst.connection.is_connected, "hub gone")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "revoke_grant", {"incident_id": request.incident.incident_id}, blocking=True
    )
    assert len(inst.ctx.outbox.pending) == 2
    start = len(fake_hub.received)
    await fake_hub.restart()
    decision = await fake_hub.wait_for("decision", start=start)
    revoke = await fake_hub.wait_for("revoke", start=start)
    assert decision.request_id == request.request_id
    assert revoke.incident_id == request.incident.incident_id
    assert revoke.reason == "revoked_by_resident"
    await until(lambda: not inst.ctx.outbox.pending, "acknowledged")
    # In order, once each.
    sent = [m.TYPE for m in fake_hub.received[start:] if m.TYPE in ("decision", "revoke")]
    assert sent == ["decision", "revoke"]


async def test_unacknowledged_messages_survive_a_restart(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    fake_hub.auto_ack = False  # the hub went down before it could acknowledge
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await hass.services.async_call(
        DOMAIN, "approve_request", {"request_id": request.request_id}, blocking=True
    )
    first = await fake_hub.wait_for("decision")
    fake_hub.auto_ack = True
    start = len(fake_hub.received)
    assert await hass.config_entries.async_reload(entry.entry_id)  # a Home Assistant restart
    await hass.async_block_till_done()
    again = await fake_hub.wait_for("decision", start=start)
    assert again.msg_id == first.msg_id  # the same message: the hub processes it once
    await until(lambda: not entry.runtime_data.ctx.outbox.pending, "acknowledged")


async def test_a_hundred_replays_of_one_request_count_once(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    for _ in range(100):
        await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "pending")
    await asyncio.sleep(0.2)
    await hass.async_block_till_done()
    assert audit_actions(entry).count("request_received") == 1
    notes = persistent_notification._async_get_or_create_notifications(hass)
    assert [n for n in notes if request.request_id in n] == [
        f"connect_share_request_{request.request_id}"
    ]


async def test_pending_and_footage_requests_survive_a_restart(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    live = fake_hub.request(fake_hub.incident(), ["camera.front"])
    footage = fake_hub.request(fake_hub.incident(), ["camera.front"], scope="clip")
    for req in (live, footage):
        await fake_hub.send(req)
    await until(lambda: len(entry.runtime_data.pending) == 2, "pending")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert set(entry.runtime_data.pending) == {live.request_id, footage.request_id}
    start = len(fake_hub.received)
    for req in (live, footage):
        await hass.services.async_call(
            DOMAIN, "approve_request", {"request_id": req.request_id}, blocking=True
        )
    await until(
        lambda: len([m for m in fake_hub.received[start:] if m.TYPE == "decision"]) == 2,
        "both decisions",
    )
    # The footage request is still known for sharing from (share_footage looks it up).
    assert entry.runtime_data.requests.find(footage.request_id) == footage


# --- 5. a snapshot grant is not a live feed ------------------------------------------------


async def test_snapshot_grant_cannot_become_a_live_feed(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub, max_fps=1)
    _incident, _req, token = await _approved(hass, fake_hub, entry, scope="snapshot")
    start = len(fake_hub.received)
    for _ in range(34):
        await fake_hub.send(
            SessionOpen(
                session_id=new_session_id(), token=token, camera_id="camera.front", scope="snapshot"
            )
        )
    await until(
        lambda: len([m for m in fake_hub.received[start:] if m.TYPE == "session_close"]) == 34,
        "every open answered",
    )
    taken = [e for e in entry.runtime_data.audit.entries if e.action == "session_started"]
    # At 1 frame/s at most a few fit in this burst, and never more than the grant's budget.
    assert 1 <= len(taken) <= min(4, live_module.SNAPSHOTS_PER_GRANT)
    refused = [
        e.detail["reason"]
        for e in entry.runtime_data.audit.entries
        if e.action == "session_refused"
    ]
    assert set(refused) <= {"snapshot_rate", "snapshot_budget_spent"}
    notes = persistent_notification._async_get_or_create_notifications(hass)
    assert len([n for n in notes if n.startswith("connect_share_session_")]) == len(taken)


# --- 6. hostile input from the hub ----------------------------------------------------------


async def test_deeply_nested_json_from_the_hub_is_survived(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    entry = await _setup(hass, fake_hub)
    await fake_hub.send("[" * 30000)
    await fake_hub.send('{"v": 1, "type": "ping", "ts": ' + "[" * 30000 + "}")
    request = fake_hub.request(fake_hub.incident(), ["camera.front"])
    await fake_hub.send(request)
    await until(lambda: request.request_id in entry.runtime_data.pending, "still handled")
    assert entry.runtime_data.connection._task is not None
    assert not entry.runtime_data.connection._task.done()


# --- audit log: a full disk stops everything and tells the resident ------------------------


async def test_full_audit_disk_stops_frames_and_tells_the_resident(
    hass: HomeAssistant, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await _setup(hass, fake_hub)
    _incident, _req, token = await _approved(hass, fake_hub, entry)
    sid = new_session_id()
    await fake_hub.send(
        SessionOpen(session_id=sid, token=token, camera_id="camera.front", scope="live", fps=10)
    )
    await fake_hub.wait_frames(1)

    def disk_full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audit_log_module, "_write_all", disk_full)
    # The next write fails (any logged action; here a probe entry).
    with pytest.raises(AuditWriteFailed):
        await entry.runtime_data.ctx.audit.record("probe", {})
    closed = await fake_hub.wait_for("session_close", lambda m: m.session_id == sid)
    frames_at_close = len(fake_hub.binary_frames)
    assert closed.frames_sent == frames_at_close
    await asyncio.sleep(0.3)
    assert len(fake_hub.binary_frames) == frames_at_close  # no frame without a log line
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"audit_log_unwritable_{entry.entry_id}")
    assert issue is not None
    # A new session is refused while the log cannot be written.
    start = len(fake_hub.received)
    await fake_hub.send(
        SessionOpen(
            session_id=new_session_id(), token=token, camera_id="camera.front", scope="live"
        )
    )
    refused = await fake_hub.wait_for("session_close", start=start)
    assert refused.reason == "unavailable"
    # Space again: the next write succeeds, the repair goes, the chain still verifies.
    monkeypatch.undo()
    await entry.runtime_data.ctx.audit.record("probe", {})
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"audit_log_unwritable_{entry.entry_id}") is None
    )
    path = entry.runtime_data.audit.path
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert AuditLog(path).load().ok


# --- 10. one writer per audit log; a damaged log can be archived --------------------------


async def test_second_writer_refuses_to_start(
    hass: HomeAssistant, fake_hub: FakeHub, config_dir: Path
) -> None:
    import sys

    entry = await _setup(hass, fake_hub)
    path = entry.runtime_data.audit.path
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Another process (a second Home Assistant on the same config) holds the log.
    holder = await asyncio.create_subprocess_exec(
        *[
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, sys.argv[2]);"
            "from custom_components.connect_share.audit_log import AuditLog, AuditWriteFailed;"
            "log = AuditLog(__import__('pathlib').Path(sys.argv[1])); log.load();"
            "print('ready', flush=True); time.sleep(60)",
            str(path),
            str(Path(__file__).resolve().parents[2]),
        ],
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"ready"
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_ERROR
        issue = ir.async_get(hass).async_get_issue(DOMAIN, f"audit_log_locked_{entry.entry_id}")
        assert issue is not None and str(holder.pid) in issue.translation_placeholders["holder"]
    finally:
        holder.kill()
        await holder.wait()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"audit_log_locked_{entry.entry_id}") is None


async def test_damaged_log_is_archived_and_a_new_chain_starts(
    hass: HomeAssistant, fake_hub: FakeHub
) -> None:
    from custom_components.connect_share.repairs import async_create_fix_flow

    entry = await _setup(hass, fake_hub)
    path = entry.runtime_data.audit.path
    assert await hass.config_entries.async_unload(entry.entry_id)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"action":"', '"action":"x')  # edited by hand
    path.write_text("\n".join(lines) + "\n")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issue_id = f"audit_log_damaged_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.is_fixable
    flow = await async_create_fix_flow(hass, issue_id, issue.data)
    flow.hass = hass
    flow.issue_id = issue_id
    flow.flow_id = "test"
    flow.handler = DOMAIN
    result = await flow.async_step_init()
    assert result["type"] == "form"
    result = await flow.async_step_confirm({})
    assert result["type"] == "create_entry"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    archives = list(path.parent.glob(f"{path.stem}.damaged-*"))
    assert len(archives) == 1
    first = entry.runtime_data.audit.entries[0]
    assert first.action == "chain_restarted" and archives[0].name in str(first.detail)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert AuditLog(path).load().ok
