"""The key-encryption key (KEK): signing keys are stored sealed with it, never in plaintext.

The KEK is 32 random bytes kept outside the database: ``CONNECT_SHARE_HUB_KEK`` (base64url)
or a file (``CONNECT_SHARE_HUB_KEK_FILE``; default ``connect-share-hub.kek`` beside a SQLite
database, else in the current directory) that must be readable by its owner only (0600).
On first start (no signing key yet) the hub creates the file; once keys exist it refuses to
start without the KEK, or with a KEK that does not open them. Sealing is AES-256-GCM with
the key id as associated data. Backup and rotation: docs/operations.md.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import make_url

ENV_KEK = "CONNECT_SHARE_HUB_KEK"
DEFAULT_KEK_FILE = "connect-share-hub.kek"
SEALED_PREFIX = "cs-kek-v1:"


class KekError(RuntimeError):
    """The KEK is missing, unreadable, too open, or does not open the stored keys."""


def default_kek_path(database_url: str) -> Path:
    try:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            return Path(url.database).resolve().parent / DEFAULT_KEK_FILE
    except Exception:
        pass
    return Path.cwd() / DEFAULT_KEK_FILE


def _decode(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as err:
        raise KekError(f"{where}: not base64url") from err
    if len(raw) != 32:
        raise KekError(f"{where}: a KEK is 32 bytes")
    return raw


def load_kek(path: Path, *, create: bool, environ: dict[str, str] | None = None) -> bytes | None:
    """The KEK from the environment or ``path``; created (0600) when ``create`` and missing."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEK):
        return _decode(env[ENV_KEK], ENV_KEK)
    if path.exists():
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KekError(f"{path} is readable by others: chmod 600 {path}")
        return _decode(path.read_text(), str(path))
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    return _decode(path.read_text(), str(path))


def seal(kek: bytes, kid: str, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(kek).encrypt(nonce, secret.encode(), kid.encode())
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def unseal(kek: bytes, kid: str, stored: str) -> str:
    if not is_sealed(stored):
        raise KekError(f"signing key {kid} is not sealed")
    raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :])
    try:
        return AESGCM(kek).decrypt(raw[:12], raw[12:], kid.encode()).decode()
    except InvalidTag as err:
        raise KekError(f"the KEK does not open signing key {kid}: wrong KEK?") from err


def private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only, or take group/other access away."""
    if path.exists():
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(0o600)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
