"""The walkthrough ``scripts/demo`` prints works when pasted as is.

The text block is rendered by bash with the demo's variables (as the script prints it),
then its lines from "# 1." on run in bash against a real hub with an installation that
approves by itself and streams frames: it must find INCIDENT, GRANT and SESSION on its own,
save some MJPEG, close the session and list the audit. Needs curl (as the reader does);
``scripts/run`` (which enters the project's environment) is a stand-in that runs the
command with this venv first on PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.hub_harness import SimulatedInstallation, camera, running_hub, tiny_jpeg

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo"


def walkthrough_template() -> str:
    text = DEMO.read_text()
    match = re.search(r"\ncat <<EOF\n(.*?)\nEOF\n", text, re.S)
    assert match, "scripts/demo prints no walkthrough (cat <<EOF ... EOF)"
    return match.group(1)


async def render(env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        f"cat <<EOF\n{walkthrough_template()}\nEOF\n",
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    return out.decode()


async def stream_when_asked(sim: SimulatedInstallation) -> None:
    opened = await sim.next_message("session_open", timeout=60)
    for seq in range(10_000):
        await sim.send_frame(opened.session_id, tiny_jpeg(seq % 7), seq=seq)
        await asyncio.sleep(0.2)


async def test_demo_walkthrough_runs_as_pasted(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("the demo walkthrough uses curl: install the Debian package curl")
    async with running_hub(tmp_path) as hub:
        analyst = await hub.create_user(role="analyst")
        admin = await hub.create_user(role="admin")
        sim = await hub.simulated_installation(
            [camera("camera.back_yard", 52.3731, 4.8932, mode="auto")], auto_approve=True
        )
        ha_dir = tmp_path / "ha"
        (ha_dir / "connect_share").mkdir(parents=True)
        home_log = ha_dir / "connect_share" / f"audit-{sim.installation_id}.jsonl"
        home_log.write_text('{"seq": 1}\n')
        venv = Path(sys.executable).parent.parent
        run = tmp_path / "scripts" / "run"
        run.parent.mkdir()
        # The demo's hub keeps its key-encryption key beside its database; this one's is here.
        kek = f'CONNECT_SHARE_HUB_KEK_FILE="{hub.settings.kek_file}"'
        run.write_text(f'#!/bin/sh\n{kek} PATH="{venv}/bin:$PATH" exec "$@"\n')
        run.chmod(0o755)
        text = await render(
            {
                "HUB_URL": hub.url,
                "HA_PORT": "8123",
                "DEMO": str(tmp_path),
                "INSTALLATION": sim.installation_id,
                "ANALYST_TOKEN": analyst.token,
                "ADMIN_TOKEN": admin.token,
                "PY": sys.executable,
                "VENV": str(venv),
                "DB_URL": hub.settings.database_url,
                "HA_DIR": str(ha_dir),
            }
        )
        assert "$ANALYST_TOKEN" not in text and analyst.token in text
        pasted = text[text.index("# 1.") : text.index("Ctrl-C stops both.")]
        assert pasted.rstrip().splitlines()[-1].startswith("tail -n 3 ")
        frames = asyncio.get_running_loop().create_task(stream_when_asked(sim))
        try:
            proc = await asyncio.create_subprocess_exec(
                "bash",
                "-c",
                pasted,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out_bytes, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
        finally:
            frames.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await frames
        out = out_bytes.decode()
        assert proc.returncode == 0, out
        incident = re.search(r"^INCIDENT=([0-9a-f]{32})$", out, re.M)
        grant = re.search(r"^GRANT=([0-9a-f]{32})$", out, re.M)
        session = re.search(r"^SESSION=([0-9a-f]{32})$", out, re.M)
        assert incident and grant and session, out
        assert f'"session_id": "{session.group(1)}", "ended": ' in out, out
        assert (tmp_path / "live.mjpeg").read_bytes().startswith(b"--"), "no MJPEG saved"
        details = await hub.client(analyst).incident(incident.group(1))
        assert [g["grant_id"] for r in details["requests"] for g in r["grants"]] == [grant.group(1)]
        state = await hub.client(analyst).session(session.group(1))
        assert state["ended_at"] is not None, "the walkthrough closed the session"
        lines = out.splitlines()
        for action in ("incident.opened", "request.created", "session.start", "session.stop"):
            assert action in lines, (action, out)
        assert '"ok": true' in out, "verify-audit ran"
        assert '{"seq": 1}' in out, "the home's audit log was shown"
