"""The detection model: a local path, or downloaded once from a URL and checked by sha256.

The integration passes ``hass.config.path("connect_share")`` as the directory. A download
is streamed to a temp file beside the target, hashed on the way, and renamed into place
only when the hash matches, so a crash, a truncated body or a wrong hash never leaves a file
that a later start would trust. A present file with the right hash is not fetched again.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import aiohttp

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 64 * 1024
# A COCO SSD model is a few MB; far larger bodies are a wrong URL, not a model.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class ModelDownloadError(Exception):
    """The model could not be obtained or did not match its sha256 (message says which)."""


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where the model comes from: ``local_path`` wins over ``url``; sha256 is lowercase hex."""

    sha256: str
    url: str | None = None
    local_path: str | None = None
    filename: str | None = None  # defaults to the last part of the URL

    def target_name(self) -> str:
        if self.filename:
            name = self.filename
        elif self.url:
            name = Path(urlsplit(self.url).path).name
        else:
            name = ""
        # Never let a URL or option steer the file outside the model directory.
        if not name or name in {".", ".."} or "/" in name or "\\" in name:
            return f"model-{self.sha256[:12]}.tflite"
        return name


def _check_sha256(sha256: str) -> str:
    value = sha256.strip().lower()
    if not _SHA256.match(value):
        raise ModelDownloadError(f"not a sha256 (64 hex digits): {sha256!r}")
    return value


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _present_and_valid(path: Path, sha256: str) -> bool:
    return path.is_file() and file_sha256(path) == sha256


async def _run(func: Callable[..., Any], *args: Any) -> Any:
    # File I/O stays off the event loop (Home Assistant flags blocking calls in it).
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


async def ensure_model(
    source: ModelSource,
    directory: str | os.PathLike[str],
    session: aiohttp.ClientSession | None = None,
    *,
    timeout_s: float = 300.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Path:
    """Path of a verified model file; downloads it first if needed.

    Raises ModelDownloadError with a message fit for a repair issue; never leaves a partial
    file behind.
    """
    sha256 = _check_sha256(source.sha256)
    if source.local_path:
        path = Path(source.local_path).expanduser()
        if not await _run(path.is_file):
            raise ModelDownloadError(f"model file not found: {path}")
        actual = await _run(file_sha256, path)
        if actual != sha256:
            raise ModelDownloadError(
                f"model file {path} has sha256 {actual}, expected {sha256}; "
                "check the file or the configured hash"
            )
        return path
    if not source.url:
        raise ModelDownloadError("no model URL or local path configured")
    scheme = urlsplit(source.url).scheme
    if scheme not in {"http", "https"}:
        raise ModelDownloadError(f"model URL must be http(s), not {scheme or 'empty'!r}")

    target = Path(directory) / source.target_name()
    if await _run(_present_and_valid, target, sha256):
        return target
    await _run(lambda: target.parent.mkdir(parents=True, exist_ok=True))

    own_session = session is None
    if own_session:
        session = aiohttp.ClientSession()
    assert session is not None
    try:
        await _download(session, source.url, target, sha256, timeout_s, max_bytes)
    finally:
        if own_session:
            await session.close()
    return target


async def _download(
    session: aiohttp.ClientSession,
    url: str,
    target: Path,
    sha256: str,
    timeout_s: float,
    max_bytes: int,
) -> None:
    fd, tmp_name = await _run(tempfile.mkstemp, f".{target.name}.", ".part", str(target.parent))
    tmp = Path(tmp_name)
    handle: IO[bytes] = os.fdopen(fd, "wb")
    digest = hashlib.sha256()
    received = 0
    try:
        try:
            timeout = aiohttp.ClientTimeout(total=timeout_s)
            async with session.get(url, timeout=timeout) as response:
                if response.status != 200:
                    raise ModelDownloadError(
                        f"downloading the model from {url} failed: HTTP {response.status} "
                        f"{response.reason or ''}".rstrip()
                    )
                expected_len = response.content_length
                if expected_len is not None and expected_len > max_bytes:
                    raise ModelDownloadError(
                        f"the file at {url} is {expected_len} bytes, more than the "
                        f"{max_bytes} a model may have"
                    )
                async for chunk in response.content.iter_chunked(_CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        raise ModelDownloadError(
                            f"the file at {url} is larger than the {max_bytes} bytes "
                            "a model may have"
                        )
                    digest.update(chunk)
                    await _run(handle.write, chunk)
                if expected_len is not None and received != expected_len:
                    raise ModelDownloadError(
                        f"the model download from {url} was cut short: {received} of "
                        f"{expected_len} bytes"
                    )
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as err:
            # A server that closes early with a Content-Length lands here.
            raise ModelDownloadError(
                f"the model download from {url} failed after {received} bytes: {err!r}"
            ) from err
        except aiohttp.ClientError as err:
            raise ModelDownloadError(f"downloading the model from {url} failed: {err!r}") from err
        except TimeoutError as err:
            raise ModelDownloadError(
                f"downloading the model from {url} timed out after {timeout_s:.0f} s"
            ) from err
        actual = digest.hexdigest()
        if actual != sha256:
            raise ModelDownloadError(
                f"the model downloaded from {url} has sha256 {actual}, expected {sha256}; "
                "the file was discarded (wrong URL, wrong hash, or a changed file)"
            )
        await _run(_finish, handle, tmp, target)
    except BaseException:
        await _run(_discard, handle, tmp)
        raise


def _finish(handle: IO[bytes], tmp: Path, target: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(tmp, target)  # atomic on the same filesystem


def _discard(handle: IO[bytes], tmp: Path) -> None:
    if not handle.closed:
        handle.close()
    tmp.unlink(missing_ok=True)
