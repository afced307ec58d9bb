"""`tracebot moderator ...` and `tracebot api-token ...`: dashboard accounts and API tokens."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from review.security import Passwords, new_token, password_problem, token_hash
from storage.models import ModeratorRole, utcnow
from storage.uow import Database, UnitOfWork

T = TypeVar("T")
CLI_ACTOR = "(command line)"


async def _with_database(args: argparse.Namespace, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the database that `args.database_url()` names (given by the `tracebot` CLI)."""
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_if_needed
    from storage.privacy import Privacy

    url = args.database_url()
    engine = create_engine(url)
    try:
        await upgrade_if_needed(engine, url)
        # Accounts and tokens never touch reporters, so no real pseudonym key is needed.
        return await work(Database(create_session_factory(engine), Privacy(new_token())))
    finally:
        await engine.dispose()


def read_password(args: argparse.Namespace) -> str:
    """From stdin (one line) with --password-stdin, else prompted twice."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise ValueError("the passwords do not match")
    problem = password_problem(password)
    if problem:
        raise ValueError(f"password {problem}")
    return password


def _audit(uow: UnitOfWork, action: str, target_type: str, target_id: Any, **details: Any) -> None:
    uow.audit.append(actor=CLI_ACTOR, action=action, target_type=target_type, target_id=target_id, details=details)


def _cmd_add(args: argparse.Namespace) -> int:
    password_hash = Passwords().hash(read_password(args))

    async def work(database: Database) -> None:
        async with database.unit_of_work() as uow:
            account = await uow.moderators.add(args.name, password_hash, ModeratorRole(args.role))
            _audit(uow, "account.create", "moderator", account.id, username=account.username, role=account.role)
            await uow.commit()

    asyncio.run(_with_database(args, work))
    print(f"moderator {args.name} ({args.role}) created")
    return 0


def _cmd_reset_password(args: argparse.Namespace) -> int:
    password_hash = Passwords().hash(read_password(args))

    async def work(database: Database) -> None:
        async with database.unit_of_work() as uow:
            account = await uow.moderators.by_username(args.name)
            if account is None:
                raise ValueError(f"no moderator named {args.name!r}")
            await uow.moderators.set_password(account.id, password_hash)
            await uow.web_sessions.delete_for(account.id)  # whoever held the old password is signed out
            _audit(uow, "account.password_reset", "moderator", account.id, username=account.username)
            await uow.commit()

    asyncio.run(_with_database(args, work))
    print(f"password of {args.name} reset; their sessions were ended")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    async def work(database: Database) -> list[Any]:
        async with database.unit_of_work() as uow:
            return await uow.moderators.all()

    accounts = asyncio.run(_with_database(args, work))
    for account in accounts:
        state = "active" if account.active else "disabled"
        last = account.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if account.last_login_at else "never"
        print(f"{account.username:<24} {account.role:<10} {state:<18} last sign-in: {last}")
    if not accounts:
        print("no moderators yet: tracebot moderator add NAME --role admin")
    return 0


def _cmd_token_create(args: argparse.Namespace) -> int:
    token = "tbt_" + new_token()

    async def work(database: Database) -> int:
        async with database.unit_of_work() as uow:
            record = await uow.api_tokens.create(args.name, token_hash(token))
            _audit(uow, "api_token.create", "api_token", record.id, name=record.name)
            await uow.commit()
            return record.id

    token_id = asyncio.run(_with_database(args, work))
    print(f"API token {token_id} ({args.name}) created. It is shown only this once:\n{token}")
    return 0


def _cmd_token_list(args: argparse.Namespace) -> int:
    async def work(database: Database) -> list[Any]:
        async with database.unit_of_work() as uow:
            return await uow.api_tokens.all()

    for record in asyncio.run(_with_database(args, work)):
        state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "active"
        used = f"{record.last_used_at:%Y-%m-%d %H:%M} UTC" if record.last_used_at else "never"
        print(f"{record.id:>4}  {record.name:<30} {state:<20} last used: {used}")
    return 0


def _cmd_token_revoke(args: argparse.Namespace) -> int:
    async def work(database: Database) -> bool:
        async with database.unit_of_work() as uow:
            revoked = await uow.api_tokens.revoke(args.id, utcnow())
            if revoked:
                _audit(uow, "api_token.revoke", "api_token", args.id)
                await uow.commit()
            return revoked

    if not asyncio.run(_with_database(args, work)):
        raise ValueError(f"no active API token {args.id}")
    print(f"API token {args.id} revoked")
    return 0


def add_commands(commands: Any, database_url: Callable[[], str]) -> None:
    """Register the subcommands on `tracebot`'s subparsers; `database_url` reads the setting when run."""
    moderator = commands.add_parser("moderator", help="dashboard accounts")
    moderator.set_defaults(database_url=database_url)
    moderator_commands = moderator.add_subparsers(dest="moderator_command", required=True)
    add = moderator_commands.add_parser("add", help="create an account (password prompted)")
    add.add_argument("name")
    add.add_argument("--role", choices=[role.value for role in ModeratorRole], default=ModeratorRole.MODERATOR.value)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_cmd_add)
    reset = moderator_commands.add_parser("reset-password", help="set a new password and end the account's sessions")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset.set_defaults(handler=_cmd_reset_password)
    listing = moderator_commands.add_parser("list", help="list accounts")
    listing.set_defaults(handler=_cmd_list)

    token = commands.add_parser("api-token", help="read-only API tokens")
    token.set_defaults(database_url=database_url)
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token (printed once)")
    create.add_argument("name")
    create.set_defaults(handler=_cmd_token_create)
    token_commands.add_parser("list", help="list tokens").set_defaults(handler=_cmd_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_cmd_token_revoke)
