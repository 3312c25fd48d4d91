"""Hub signing-key rotation: new keys are offered in a repair and pinned only on consent.

Keys the hub added after enrollment are NOT trusted silently: pinned is pinned. The resident
sees the new fingerprints in a repair and pins them explicitly; until then tokens signed with
them are refused (``unknown_key``).
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.helpers import issue_registry as ir

from .const import CONF_FINGERPRINTS, CONF_JWKS, DOMAIN, ISSUE_KEYS
from .context import InstallationContext
from .protocol import KeySet

_LOGGER = logging.getLogger(__name__)


def check_key_rotation(ctx: InstallationContext, jwks: dict[str, Any]) -> None:
    """Called with the key set the hub announces at each authentication."""
    issue_id = f"{ISSUE_KEYS}_{ctx.entry.entry_id}"
    try:
        offered = KeySet.from_jwks(jwks)
    except Exception:  # any malformed key set is refused the same way
        _LOGGER.warning("Hub sent an invalid key set at auth; keeping the pinned one")
        return
    new = sorted(set(offered.kids) - set(ctx.keys.pinned.kids))
    if not new:
        ctx.keys.offered_jwks = None
        ir.async_delete_issue(ctx.hass, DOMAIN, issue_id)
        return
    _LOGGER.warning("Hub offers signing keys that were not pinned: %s", new)
    ctx.keys.offered_jwks = offered.to_jwks()
    fingerprints = offered.fingerprints()
    ir.async_create_issue(
        ctx.hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_KEYS,
        translation_placeholders={
            "new": ", ".join(fingerprints[k] for k in new),
            "pinned": ", ".join(sorted(ctx.keys.pinned.fingerprints().values())),
        },
        data={"entry_id": ctx.entry.entry_id},
    )


async def pin_offered_keys(ctx: InstallationContext) -> bool:
    """The resident confirmed the new fingerprints: pin the hub's current key set."""
    if ctx.keys.offered_jwks is None:
        return False
    offered = ctx.keys.offered_jwks
    keyset = KeySet.from_jwks(offered)
    await ctx.audit.record(
        "keys_pinned", {"kids": keyset.kids, "fingerprints": keyset.fingerprints()}
    )
    ctx.hass.config_entries.async_update_entry(
        ctx.entry,
        data={
            **ctx.entry.data,
            CONF_JWKS: offered,
            CONF_FINGERPRINTS: sorted(keyset.fingerprints().values()),
        },
    )
    ctx.keys.pinned = keyset
    ctx.keys.offered_jwks = None
    ir.async_delete_issue(ctx.hass, DOMAIN, f"{ISSUE_KEYS}_{ctx.entry.entry_id}")
    return True
