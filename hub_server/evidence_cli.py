"""``verify-evidence``: check a downloaded evidence file against its signed manifest.

Usage::

    python -m hub_server.evidence_cli verify-evidence FILE --manifest FILE.manifest.json \
        [--fingerprint abcd:...]

The manifest bundle (``GET /api/v1/evidence/<id>/manifest``) holds the signed manifest and
the installation's public key as enrolled at the hub. The command checks the signature,
then the file's size and sha256. ``--fingerprint`` pins the key to the one the resident
reads in Home Assistant, so the check does not rest on the hub's word alone.
Exit 0 when everything matches, 1 when it does not, 2 on unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connect_share_protocol import ProtocolError, fingerprint, public_key_from_b64
from connect_share_protocol.evidence import EvidenceMismatch, verify_file, verify_manifest


def add_verify_evidence_command(sub: Any) -> argparse.ArgumentParser:
    """Add ``verify-evidence`` to an argparse subparsers object (e.g. the hub's CLI)."""
    cmd = sub.add_parser("verify-evidence", help="check a downloaded file against its manifest")
    cmd.add_argument("file", type=Path, help="the downloaded evidence file")
    cmd.add_argument("--manifest", type=Path, required=True, help="the manifest bundle JSON")
    cmd.add_argument("--fingerprint", help="expected installation key fingerprint")
    return cmd


def verify_evidence(file: Path, manifest_path: Path, expected_fingerprint: str | None) -> int:
    try:
        bundle = json.loads(manifest_path.read_text())
        public_key = public_key_from_b64(bundle["public_key"])
        signed = {"manifest": bundle["manifest"], "signature": bundle["signature"]}
    except (OSError, ValueError, KeyError, TypeError, ProtocolError) as err:
        print(f"error: cannot read the manifest bundle {manifest_path}: {err}", file=sys.stderr)
        return 2
    key_fp = fingerprint(public_key)
    if expected_fingerprint and expected_fingerprint.strip().lower() != key_fp:
        print(f"MISMATCH: key fingerprint is {key_fp}, expected {expected_fingerprint}")
        return 1
    try:
        manifest = verify_manifest(public_key, signed)
    except ProtocolError as err:
        print(f"MISMATCH: manifest: {err}")
        return 1
    try:
        verify_file(manifest, file)
    except EvidenceMismatch as err:
        print(f"MISMATCH: {file}: {err.detail}")
        return 1
    except OSError as err:
        print(f"error: cannot read {file}: {err}", file=sys.stderr)
        return 2
    print(
        f"OK: {file} matches the manifest signed by installation {manifest.installation_id} "
        f"(key {key_fp}): camera {manifest.camera_id}, incident {manifest.incident_id}, "
        f"request {manifest.request_id}, {manifest.size} bytes, sha256 {manifest.sha256}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connect-share-hub", description=__doc__)
    add_verify_evidence_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return verify_evidence(args.file, args.manifest, args.fingerprint)


if __name__ == "__main__":
    sys.exit(main())
