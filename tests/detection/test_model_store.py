"""Model download against a real aiohttp server on 127.0.0.1 serving the real model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from custom_components.connect_share.detection.model_store import (
    ModelDownloadError,
    ModelSource,
    ensure_model,
)

from .conftest import MODEL_NAME, MODEL_SHA256

WRONG_SHA256 = "0" * 64

# Real sockets on 127.0.0.1 (the HA plugin blocks socket creation unless enabled).
pytestmark = pytest.mark.usefixtures("socket_enabled")


class ModelServer:
    def __init__(self, model: bytes) -> None:
        self.model = model
        self.hits: dict[str, int] = {}
        self.base = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/models/{name}", self._model)
        app.router.add_get("/truncated/{name}", self._truncated)
        app.router.add_get("/chunked/{name}", self._chunked_other)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def _count(self, request: web.Request) -> None:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    async def _model(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        if request.match_info["name"] != MODEL_NAME:
            raise web.HTTPNotFound()
        return web.Response(body=self.model, content_type="application/octet-stream")

    async def _truncated(self, request: web.Request) -> web.StreamResponse:
        # Announces the full length, sends half, then drops the connection.
        self._count(request)
        response = web.StreamResponse()
        response.content_length = len(self.model)
        await response.prepare(request)
        await response.write(self.model[: len(self.model) // 2])
        await asyncio.sleep(0)
        assert request.transport is not None
        request.transport.close()
        return response

    async def _chunked_other(self, request: web.Request) -> web.StreamResponse:
        # No Content-Length, and the body differs by one byte: only the hash can tell.
        self._count(request)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(self.model[:-1] + bytes([self.model[-1] ^ 1]))
        await response.write_eof()
        return response


@pytest.fixture
async def server(model_path: Path):
    srv = ModelServer(model_path.read_bytes())
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as sess:
        yield sess


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


async def test_download_verifies_and_is_not_repeated(server, session, tmp_path, model_path):
    target_dir = tmp_path / "connect_share"
    source = ModelSource(sha256=MODEL_SHA256, url=f"{server.base}/models/{MODEL_NAME}")
    path = await ensure_model(source, target_dir, session)
    assert path == target_dir / MODEL_NAME
    assert path.read_bytes() == model_path.read_bytes()
    assert leftovers(target_dir) == [MODEL_NAME]
    again = await ensure_model(source, target_dir, session)
    assert again == path
    assert server.hits[f"/models/{MODEL_NAME}"] == 1


async def test_uppercase_hash_and_own_session(server, tmp_path):
    source = ModelSource(sha256=MODEL_SHA256.upper(), url=f"{server.base}/models/{MODEL_NAME}")
    path = await ensure_model(source, tmp_path)
    assert path.stat().st_size == 4_183_312


async def test_wrong_hash_leaves_nothing(server, session, tmp_path):
    source = ModelSource(sha256=WRONG_SHA256, url=f"{server.base}/models/{MODEL_NAME}")
    with pytest.raises(ModelDownloadError, match=f"has sha256 {MODEL_SHA256}, expected 0000"):
        await ensure_model(source, tmp_path, session)
    assert leftovers(tmp_path) == []


async def test_corrupt_present_file_is_replaced(server, session, tmp_path, model_path):
    (tmp_path / MODEL_NAME).write_bytes(b"not a model")
    source = ModelSource(sha256=MODEL_SHA256, url=f"{server.base}/models/{MODEL_NAME}")
    path = await ensure_model(source, tmp_path, session)
    assert path.read_bytes() == model_path.read_bytes()
    assert server.hits[f"/models/{MODEL_NAME}"] == 1


async def test_http_404_is_a_clear_error(server, session, tmp_path):
    source = ModelSource(sha256=MODEL_SHA256, url=f"{server.base}/models/nope.tflite")
    with pytest.raises(ModelDownloadError, match="HTTP 404"):
        await ensure_model(source, tmp_path, session)
    assert leftovers(tmp_path) == []


async def test_truncated_download_leaves_nothing(server, session, tmp_path):
    source = ModelSource(
        sha256=MODEL_SHA256, url=f"{server.base}/truncated/{MODEL_NAME}", filename=MODEL_NAME
    )
    with pytest.raises(ModelDownloadError, match="failed after|cut short"):
        await ensure_model(source, tmp_path, session)
    assert leftovers(tmp_path) == []


async def test_changed_body_without_length_fails_the_hash(server, session, tmp_path):
    source = ModelSource(sha256=MODEL_SHA256, url=f"{server.base}/chunked/{MODEL_NAME}")
    with pytest.raises(ModelDownloadError, match="expected e4b118"):
        await ensure_model(source, tmp_path, session)
    assert leftovers(tmp_path) == []


async def test_unreachable_server_is_a_clear_error(session, tmp_path):
    # A port nobody listens on: bind one, close it, then connect.
    sock_server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = sock_server.sockets[0].getsockname()[1]
    sock_server.close()
    await sock_server.wait_closed()
    source = ModelSource(sha256=MODEL_SHA256, url=f"http://127.0.0.1:{port}/m.tflite")
    with pytest.raises(ModelDownloadError, match="failed"):
        await ensure_model(source, tmp_path, session)
    assert leftovers(tmp_path) == []


async def test_max_bytes_guards_a_wrong_url(server, session, tmp_path):
    source = ModelSource(sha256=MODEL_SHA256, url=f"{server.base}/models/{MODEL_NAME}")
    with pytest.raises(ModelDownloadError, match="more than"):
        await ensure_model(source, tmp_path, session, max_bytes=1000)
    assert leftovers(tmp_path) == []


async def test_local_path_skips_download(model_path, tmp_path):
    source = ModelSource(sha256=MODEL_SHA256, local_path=str(model_path), url="http://unused/")
    assert await ensure_model(source, tmp_path) == model_path
    bad = ModelSource(sha256=WRONG_SHA256, local_path=str(model_path))
    with pytest.raises(ModelDownloadError, match="check the file"):
        await ensure_model(bad, tmp_path)
    missing = ModelSource(sha256=MODEL_SHA256, local_path=str(tmp_path / "none.tflite"))
    with pytest.raises(ModelDownloadError, match="not found"):
        await ensure_model(missing, tmp_path)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (ModelSource(sha256="abc", url="http://127.0.0.1/x"), "not a sha256"),
        (ModelSource(sha256=MODEL_SHA256), "no model URL"),
        (ModelSource(sha256=MODEL_SHA256, url="file:///etc/passwd"), "must be http"),
    ],
)
async def test_bad_configuration(source, message, tmp_path):
    with pytest.raises(ModelDownloadError, match=message):
        await ensure_model(source, tmp_path)


def test_target_name_cannot_escape_the_directory():
    assert ModelSource(sha256=MODEL_SHA256, url="http://h/a/m.tflite").target_name() == "m.tflite"
    assert ModelSource(sha256=MODEL_SHA256, url="http://h/").target_name().startswith("model-")
    assert ModelSource(sha256=MODEL_SHA256, filename="../x").target_name().startswith("model-")
