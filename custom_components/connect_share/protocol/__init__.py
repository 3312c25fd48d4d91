"""Connect Share protocol: the one definition of keys, access tokens and wire messages.

Pure Python (cryptography + PyJWT only) and free of Home Assistant imports, so the hub can
install this folder as ``connect_share_protocol`` while HACS ships it inside the integration.
Only relative imports are allowed inside this package for that reason.
"""

from .errors import ProtocolError, TokenError, TokenRejection
from .keys import (
    HubKey,
    KeySet,
    auth_payload,
    check_public_key_bytes,
    fingerprint,
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_from_b64,
    public_key_to_b64,
    sign_auth_challenge,
    verify_auth_challenge,
)
from .messages import PROTOCOL_VERSION, decode_message, encode_message
from .purpose import LEGAL_BASES, OFFENSE_GROUPS, Purpose
from .tokens import (
    MAX_TOKEN_LIFETIME_S,
    SCOPES,
    TOKEN_TYPE,
    AccessClaims,
    AccessGrant,
    issue_token,
    verify_token,
)

__all__ = [
    "LEGAL_BASES",
    "MAX_TOKEN_LIFETIME_S",
    "OFFENSE_GROUPS",
    "PROTOCOL_VERSION",
    "SCOPES",
    "TOKEN_TYPE",
    "AccessClaims",
    "AccessGrant",
    "HubKey",
    "KeySet",
    "ProtocolError",
    "Purpose",
    "TokenError",
    "TokenRejection",
    "auth_payload",
    "check_public_key_bytes",
    "decode_message",
    "encode_message",
    "fingerprint",
    "generate_private_key",
    "issue_token",
    "load_private_key",
    "private_key_to_pem",
    "public_key_from_b64",
    "public_key_to_b64",
    "sign_auth_challenge",
    "verify_auth_challenge",
    "verify_token",
]
