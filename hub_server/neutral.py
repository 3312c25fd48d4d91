"""Defence in depth: whatever reason an installation gives, the hub keeps only a neutral one.

A resident's real reason (paused, outside the schedule, ...) would tell the hub when someone
is home. The integration already sends only ``NEUTRAL_REASONS``; the hub normalises again
on receipt, before anything is stored, audited or shown, so an old or modified installation
cannot leak it either.
"""

from __future__ import annotations

from connect_share_protocol.messages import NEUTRAL_REVOKE, neutral_reason

# Prefix of session end reasons that came from the installation (``installation:ended``).
FROM_INSTALLATION = "installation:"


def session_close_reason(reason: str, *, started: bool) -> str:
    """The stored end reason of a session the installation closed: a refusal before
    ``session_started`` (``unavailable``), an end after it (``ended``)."""
    return FROM_INSTALLATION + neutral_reason(reason, refusal=not started)


def revoke_reason(_reason: str) -> str:
    """The stored reason of any revocation by the resident: only that the resident revoked."""
    return NEUTRAL_REVOKE
