"""``connect-share-hub``: serve, migrate, create-user, enrollment-code, rotate-key, rotate-kek,
verify-audit, verify-evidence, retention.

Every option also reads ``CONNECT_SHARE_HUB_<NAME>`` (e.g. ``CONNECT_SHARE_HUB_DATABASE_URL``);
a flag wins over the variable. The default database is ``connect-share-hub.sqlite3`` in the
current directory, so ``connect-share-hub serve`` alone works on a fresh machine.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from . import __version__, audit, enrollment, retention, users
from .bootstrap import ensure_bootstrap, resolve_kek
from .database import Database, migrate
from .errors import ApiError
from .evidence_cli import add_verify_evidence_command, verify_evidence
from .kek import ENV_KEK, KekError, load_kek, seal, unseal
from .models import ROLES, SigningKey
from .settings import Settings
from .signing import create_key


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connect-share-hub", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db "
        "(env CONNECT_SHARE_HUB_DATABASE_URL)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hub")
    serve.add_argument("--host", help="listen address (env CONNECT_SHARE_HUB_HOST)")
    serve.add_argument("--port", type=int, help="listen port (env CONNECT_SHARE_HUB_PORT)")
    serve.add_argument("--name", dest="hub_name", help="hub name shown to residents")
    serve.add_argument("--issuer", help="token issuer (default connect-share-hub:<hub id>)")
    serve.add_argument("--secure-cookies", action="store_true", default=None)
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema")
    serve.add_argument(
        "--map-tile-url",
        help="XYZ tile URL of the city's map server for the console, e.g. "
        "https://tiles.example.org/{z}/{x}/{y}.png (env CONNECT_SHARE_HUB_MAP_TILE_URL; "
        "default none: the map shows circle, cameras and scale without streets)",
    )
    serve.add_argument("--map-attribution", help="credit shown under the map tiles")
    serve.add_argument(
        "--geocoder-url",
        help="Nominatim-compatible search URL for address look-up in the console "
        "(env CONNECT_SHARE_HUB_GEOCODER_URL; default none: coordinates only)",
    )
    serve.add_argument(
        "--time-zone",
        help="IANA time zone of console times, e.g. Europe/Berlin (default: the host's)",
    )

    sub.add_parser("migrate", help="create or upgrade the database schema")

    user = sub.add_parser("create-user", help="create an officer account")
    user.add_argument("username")
    user.add_argument("--role", choices=ROLES, required=True)
    user.add_argument("--display-name", default="")
    user.add_argument("--badge", default="")
    user.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (default: prompt)",
    )
    user.add_argument("--api-token", action="store_true", help="also print a bearer API token")

    code = sub.add_parser("enrollment-code", help="print a one-time enrollment code")
    code.add_argument("--ttl-hours", type=float, default=168.0, help="validity (default 7 days)")
    code.add_argument("--note", default="", help="who the code is for")

    sub.add_parser("rotate-key", help="add a new signing key; the old one stays in the JWKS")
    sub.add_parser("verify-audit", help="recompute the audit hash chain (exit 1 if broken)")
    rotate_kek = sub.add_parser(
        "rotate-kek",
        help="re-seal the signing keys under a new key-encryption key (stop every hub first)",
    )
    rotate_kek.add_argument(
        "--new-kek-file",
        help="write the new KEK here (default: replace the current KEK file; required when "
        "the KEK comes from CONNECT_SHARE_HUB_KEK)",
    )
    add_verify_evidence_command(sub)
    keep = sub.add_parser(
        "retention",
        help="delete records past their retention period now (audited); --show: only list "
        "the periods in force",
    )
    keep.add_argument("--show", action="store_true", help="list the periods, delete nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env(database_url=args.database_url)
    except ValueError as err:  # a variable that does not parse, named in the message
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return serve(args, settings)
        if args.command == "verify-evidence":  # offline: needs no database
            return verify_evidence(args.file, args.manifest, args.fingerprint)
        return asyncio.run(run_command(args, settings))
    except ApiError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 2
    except KekError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3


def serve(args: argparse.Namespace, settings: Settings) -> int:
    from .app import create_app

    settings = settings.replace(
        **{
            k: v
            for k, v in {
                "host": args.host,
                "port": args.port,
                "hub_name": args.hub_name,
                "issuer": args.issuer,
                "secure_cookies": args.secure_cookies,
                "migrate_on_start": False if args.no_migrate else None,
                "map_tile_url": args.map_tile_url,
                "map_attribution": args.map_attribution,
                "geocoder_url": args.geocoder_url,
                "time_zone": args.time_zone,
            }.items()
            if v is not None
        }
    )
    web.run_app(create_app(settings), host=settings.host, port=settings.port)
    return 0


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        await migrate(settings.database_url)
        print("schema is up to date")
        return 0
    await migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        kek = await resolve_kek(db, settings.kek_path())
        await ensure_bootstrap(db, kek)
        if args.command == "create-user":
            return await _create_user(args, db)
        if args.command == "enrollment-code":
            async with db.write() as session:
                code, expires_at = await enrollment.create_code(
                    db, session, ttl_s=int(args.ttl_hours * 3600), created_by=None, note=args.note
                )
            print(json.dumps({"code": code, "expires_at": expires_at}))
            return 0
        if args.command == "rotate-key":
            async with db.write() as session:
                kid = await create_key(session, kek)
                await audit.append(db, session, "key.rotated", actor="cli", kid=kid)
            print(json.dumps({"kid": kid}))
            return 0
        if args.command == "retention":
            return await _retention(args, db, settings)
        if args.command == "rotate-kek":
            return await _rotate_kek(args, db, kek, settings.kek_path())
        if args.command == "verify-audit":
            report = await audit.verify_chain(db)
            print(
                json.dumps(
                    {
                        "ok": report.ok,
                        "entries": report.entries,
                        "first_bad_seq": report.first_bad_seq,
                        "problem": report.problem,
                        "head_hash": report.head_hash,
                    }
                )
            )
            return 0 if report.ok else 1
    finally:
        await db.close()
    raise AssertionError(args.command)  # pragma: no cover - argparse limits the choices


async def _rotate_kek(args: argparse.Namespace, db: Database, kek: bytes, kek_path: Path) -> int:
    """Re-seal every signing key under a new KEK, then put the new KEK in place.

    The new KEK is written first beside its target (``<file>.new``, 0600), the keys are
    re-sealed in one transaction (each checked to open with the new KEK), and only then
    does the new file replace the target. A crash in between leaves either the old state
    or a database sealed under ``<file>.new``: move that file into place.
    """
    from_env = bool(os.environ.get(ENV_KEK))
    if args.new_kek_file:
        target = Path(args.new_kek_file)
    elif from_env:
        print(f"error: the KEK comes from {ENV_KEK}: give --new-kek-file", file=sys.stderr)
        return 2
    else:
        target = kek_path
    staging = target.with_name(target.name + ".new")
    new_kek = load_kek(staging, create=True, environ={})
    assert new_kek is not None
    if new_kek == kek:
        print(f"error: {staging} holds the current KEK", file=sys.stderr)
        return 2
    async with db.write() as session:
        rows = (await session.scalars(select(SigningKey))).all()
        for row in rows:
            sealed = seal(new_kek, row.kid, unseal(kek, row.kid, row.private_pem))
            unseal(new_kek, row.kid, sealed)  # opens with the new KEK before anything commits
            row.private_pem = sealed
        await audit.append(db, session, "kek.rotated", actor="cli", keys=len(rows))
    os.replace(staging, target)
    result: dict[str, object] = {"kek_file": str(target), "keys_resealed": len(rows)}
    if from_env:
        result["next"] = f"set {ENV_KEK} to the content of {target} before starting the hub"
    print(json.dumps(result))
    return 0


async def _retention(args: argparse.Namespace, db: Database, settings: Settings) -> int:
    from .evidence import EvidenceConfig

    try:
        periods = await retention.describe(db, settings)
    except ValueError as err:  # a negative or non-integer period in the configuration
        print(f"error: {err}", file=sys.stderr)
        return 2
    result: dict[str, object] = {"periods": {p["kind"]: p["days"] for p in periods}}
    if not args.show:
        root = EvidenceConfig.from_env(settings.database_url).root
        result["deleted"] = await retention.enforce(db, settings, root, actor="cli")
    print(json.dumps(result))
    return 0


async def _create_user(args: argparse.Namespace, db: Database) -> int:
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            print(f"error: ${args.password_env} is empty", file=sys.stderr)
            return 2
    else:
        password = getpass.getpass("password: ")
    async with db.write() as session:
        user = await users.create_user(
            db,
            session,
            username=args.username,
            password=password,
            role=args.role,
            display_name=args.display_name,
            badge=args.badge,
        )
        result: dict[str, str] = {"user_id": user.id, "username": user.username, "role": user.role}
        if args.api_token:
            result["api_token"] = await users.create_api_token(
                db, session, user, name="cli", ttl_days=90
            )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
