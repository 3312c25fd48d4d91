"""Every benchmark follows the convention: ``--quick`` runs, exits 0, prints ``name = value``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BENCHMARKS = sorted(
    p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem not in ("__init__", "common")
)
# The figures each issue asks for; a benchmark may print more.
REQUIRED = {
    "access_check": {"access_check_median_us", "access_check_ratio"},
    "hub": {
        "radius_median_ms",
        "radius_p95_ms",
        "radius_speedup_vs_scan",
        "tokens_per_s",
        "ws_idle_kib_per_conn",
    },
    "hub_memory": {"hub_rss_before_mib", "hub_rss_after_mib", "hub_rss_growth_mib"},
    "cluster": {
        "radius_p95_ms_100k_sqlite",
        "radius_p95_ms_100k_postgres",
        "select_1_p95_ms_100k_sqlite",  # the radius search's baseline, same run
        "select_1_p95_ms_100k_postgres",
        "tokens_per_s_sqlite",
        "tokens_per_s_postgres",
        "tokens_per_s_sqlite_one_tx_each",  # the group commit's baseline, same run
        "tokens_per_s_postgres_one_tx_each",
        "cross_instance_relay_added_ms_p95",
        "failover_reconnect_s",
        "audit_entries_lost",
        "ws_idle_kib_per_conn",
    },
    "media": {"mask_overhead_ratio_720p", "mask_overhead_ratio_1080p"},
    "detection": {
        "detect_ratio_720p",
        "detect_ratio_1080p",
        "detect_fps_1t",
        "detect_fps_2t",
        "motion_skip_share",
    },
}
LINE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*) = (?P<value>\S.*)$")


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_quick_run_prints_figures(name: str, tmp_path: Path) -> None:
    # Run from an empty folder: a benchmark writes nothing where it is started (the cluster
    # run once left its key-encryption key in the checkout).
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    figures = {}
    for line in proc.stdout.splitlines():
        match = LINE.match(line)
        assert match, f"not a 'name = value' line: {line!r}"
        figures[match["name"]] = match["value"]
    assert REQUIRED.get(name, set()) <= set(figures), sorted(figures)
    for key, value in figures.items():
        if key in REQUIRED.get(name, set()):
            assert float(value) >= 0, (key, value)
