"""Cost of a full access-token verification against a bare Ed25519 verify (the floor).

Usage: .venv/bin/python -m benchmarks.access_check [--quick]
"""

from __future__ import annotations

import time

from benchmarks.common import median, parse_args, report, time_calls
from connect_share_protocol import KeySet, generate_private_key, issue_token, verify_token
from connect_share_protocol.keys import HubKey, key_id
from connect_share_protocol.tokens import new_claims


def main() -> None:
    args = parse_args(__doc__ or "")
    repeats = 2_000 if args.quick else 20_000
    key = generate_private_key()
    kid = key_id(key.public_key())
    keys = KeySet([HubKey(kid, key.public_key())])
    revoked = {f"jti-{i}" for i in range(10_000)}
    claims = new_claims(
        issuer="hub",
        installation_id="inst-1",
        officer_id="o-1",
        officer_name="Dana Reyes",
        badge="4471",
        incident_id="inc-1",
        case_number="2026-1",
        cameras=["cam-1", "cam-2"],
        scopes=["live", "snapshot"],
        now=int(time.time()),
    )
    token = issue_token(key, kid, claims)
    message = token.rsplit(".", 1)[0].encode()
    signature = key.sign(message)
    public = key.public_key()

    def full() -> None:
        grant = verify_token(token, keys, installation_id="inst-1", is_revoked=revoked.__contains__)
        grant.require("cam-2", "live")

    # Interleave the two so that machine noise hits both alike.
    full_samples: list[float] = []
    floor_samples: list[float] = []
    for _ in range(10):
        full_samples += time_calls(full, repeats // 10)
        floor_samples += time_calls(lambda: public.verify(signature, message), repeats // 10)
    full_us = median(full_samples) * 1e6
    floor_us = median(floor_samples) * 1e6
    report("access_check_median_us", full_us)
    report("ed25519_verify_median_us", floor_us)
    report("access_check_ratio", full_us / floor_us)


if __name__ == "__main__":
    main()
