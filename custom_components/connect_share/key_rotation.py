"""Hub signing-key rotation: new keys are offered in a repair and pinned only on consent.

Keys the hub added after enrollment are NOT trusted silently: pinned is pinned. The state
(``manager.keyset``, ``manager.offered_jwks``) stays on the manager; these functions act on it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.helpers import issue_registry as ir

from .const import CONF_FINGERPRINTS, CONF_JWKS, DOMAIN, ISSUE_KEYS
from .protocol import KeySet

if TYPE_CHECKING:
    from .manager import ConnectShareManager

# Kept under the manager's logger name so existing log filters still apply.
_LOGGER = logging.getLogger(f"{__package__}.manager")


def check_key_rotation(manager: ConnectShareManager, jwks: dict[str, Any]) -> None:
    """Keys the hub added after enrollment are NOT trusted silently: pinned is pinned.

    The resident sees the new fingerprints in a repair and pins them explicitly; until
    then tokens signed with them are refused (``unknown_key``).
    """
    issue_id = f"{ISSUE_KEYS}_{manager.entry.entry_id}"
    try:
        offered = KeySet.from_jwks(jwks)
    except Exception:
        _LOGGER.warning("Hub sent an invalid key set at auth; keeping the pinned one")
        return
    new = sorted(set(offered.kids) - set(manager.keyset.kids))
    if not new:
        manager.offered_jwks = None
        ir.async_delete_issue(manager.hass, DOMAIN, issue_id)
        return
    _LOGGER.warning("Hub offers signing keys that were not pinned: %s", new)
    manager.offered_jwks = offered.to_jwks()
    fingerprints = offered.fingerprints()
    ir.async_create_issue(
        manager.hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_KEYS,
        translation_placeholders={
            "new": ", ".join(fingerprints[k] for k in new),
            "pinned": ", ".join(sorted(manager.keyset.fingerprints().values())),
        },
        data={"entry_id": manager.entry.entry_id},
    )


async def pin_offered_keys(manager: ConnectShareManager) -> bool:
    """The resident confirmed the new fingerprints: pin the hub's current key set."""
    if manager.offered_jwks is None:
        return False
    keyset = KeySet.from_jwks(manager.offered_jwks)
    await manager._audit(
        "keys_pinned", {"kids": keyset.kids, "fingerprints": keyset.fingerprints()}
    )
    manager.hass.config_entries.async_update_entry(
        manager.entry,
        data={
            **manager.entry.data,
            CONF_JWKS: manager.offered_jwks,
            CONF_FINGERPRINTS: sorted(keyset.fingerprints().values()),
        },
    )
    manager.keyset = keyset
    manager.offered_jwks = None
    ir.async_delete_issue(manager.hass, DOMAIN, f"{ISSUE_KEYS}_{manager.entry.entry_id}")
    return True
