"""scripts/demo --setup-only in a temporary directory: hub accounts, enrollment, HA config."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from custom_components.connect_share.protocol import load_private_key

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.usefixtures("socket_enabled")
def test_demo_setup_only(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash not available")
    demo = tmp_path / "demo"
    env = {
        **os.environ,
        "CONNECT_SHARE_DEMO_DIR": str(demo),
        "HUB_PORT": str(_free_port()),
        "HA_PORT": str(_free_port()),
    }
    result = subprocess.run(
        [str(ROOT / "scripts" / "demo"), "--setup-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ha = demo / "ha"
    store = json.loads((ha / ".storage" / "core.config_entries").read_text())
    (entry,) = [e for e in store["data"]["entries"] if e["domain"] == "connect_share"]
    installation = json.loads((demo / "installation.json").read_text())
    assert entry["data"]["installation_id"] == installation["installation_id"]
    load_private_key(entry["data"]["private_key"])  # a usable Ed25519 key
    assert entry["data"]["fingerprints"] == installation["fingerprints"]
    assert set(entry["options"]["cameras"]) == {"camera.front_door", "camera.back_yard"}
    assert (ha / "custom_components" / "connect_share" / "manifest.json").exists()
    # The demo cameras are local_file config entries (HA 2026.11 has no YAML platform for it).
    local_files = {e["title"]: e for e in store["data"]["entries"] if e["domain"] == "local_file"}
    assert set(local_files) == {"Front door", "Back yard"}
    assert Path(local_files["Front door"]["options"]["file_path"]).is_file()
    # The private key never reaches the script's output.
    key_line = entry["data"]["private_key"].splitlines()[1]
    assert key_line not in result.stdout + result.stderr
    # Running it again keeps the enrollment (no second code is spent).
    again = subprocess.run(
        [str(ROOT / "scripts" / "demo"), "--setup-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    store2 = json.loads((ha / ".storage" / "core.config_entries").read_text())
    assert store2["data"]["entries"] == store["data"]["entries"]  # nothing added twice
