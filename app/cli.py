"""The `velox` command: serve, run workers, migrate, manage organizations and their API keys,
and talk to an agent from a terminal."""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy.orm import Session

from app.db import organizations as org_queries
from app.db import people as people_rows
from app.db.migrate import upgrade
from app.db.session import Database
from app.observability.process import observe_process
from app.people.roles import Permission
from app.settings import Settings, get_settings

DEFAULT_ORGANIZATION = "default"


def _migrate(settings: Settings) -> None:
    upgrade(settings.resolved_database_url())


def _create_organization(settings: Settings, name: str) -> str:
    database = Database(settings.resolved_database_url())
    try:
        with database.session() as session:
            _, key = org_queries.create_organization(session, name)
        return key
    finally:
        database.dispose()


def _create_api_key(
    settings: Settings, organization: str, label: str, scopes: list[str] | None = None
) -> str:
    """A new key for the one organization `organization` names; LookupError if not exactly one."""
    database = Database(settings.resolved_database_url())
    try:
        with database.session() as session:
            org_id = _one_organization(session, organization)
            api_key, key = org_queries.create_api_key(session, org_id, name=label, scopes=scopes)
            people_rows.record_audit(
                session,
                org_id,
                actor="cli",
                action="created",
                target_type="api_key",
                target_id=f"{label} ({api_key.key_prefix}…)",
                detail={"scopes": scopes},
            )
            return key
    finally:
        database.dispose()


def _invite(settings: Settings, email: str, role: str, organization: str, *, new: bool) -> str:
    """Invite a new user (`new`) or make a new invite for an existing one; the invite URL.
    LookupError / ValueError with why when the organization, the user or the role is wrong."""
    from app.db import people as people_rows
    from app.people import accounts
    from app.people.roles import Role

    rules = accounts.AccountRules()
    database = Database(settings.resolved_database_url())
    try:
        with database.session() as session:
            if new:
                org_id = _one_organization(session, organization)
                _, token = accounts.invite_user(
                    session, org_id, email, Role(role), rules, actor="cli"
                )
            else:
                found = people_rows.user_by_email(session, email)
                if found is None:
                    raise LookupError(f"no user has the address {email!r}")
                token = people_rows.create_invite(session, found, rules.invite_ttl)
        return f"{settings.resolved_public_url()}/invite?token={token}"
    finally:
        database.dispose()


def _one_organization(session: Session, organization: str) -> str:
    found = org_queries.organizations_named(session, organization)
    if not found:
        raise LookupError(f"no organization has the id or name {organization!r}")
    if len(found) > 1:
        ids = ", ".join(o.id for o in found)
        raise LookupError(f"{len(found)} organizations are named {organization!r}: {ids}")
    return found[0].id


def _first_start(settings: Settings) -> str | None:
    """On a database with no organization yet, create the default one; return its key."""
    database = Database(settings.resolved_database_url())
    try:
        with database.session() as session:
            if org_queries.count_organizations(session) > 0:
                return None
            _, key = org_queries.create_organization(session, DEFAULT_ORGANIZATION)
            return key
    finally:
        database.dispose()


def _client_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to `host`."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def serve(settings: Settings) -> None:
    import uvicorn

    from app.api.server_protocols import uvicorn_protocols
    from app.main import create_app

    observe_process(settings, "velox-serve")
    if settings.sip_port is not None and settings.workers > 1:
        # Each worker process would bind the same UDP port; a call's datagrams must all reach
        # the one process that holds it, which several processes on one port do not promise.
        sys.exit(
            "VELOX_SIP_PORT needs VELOX_WORKERS=1: one process answers SIP calls (several "
            "processes sharing the SIP port are not supported yet). Run more nodes instead."
        )
    _migrate(settings)
    key = _first_start(settings)
    base = settings.resolved_public_url()
    print(f"Velox listening on http://{settings.host}:{settings.port} (public URL {base})")
    print(f"Twilio voice webhook: {base}/twilio/voice")
    if settings.sip_port is not None:
        print(f"SIP trunks: sip:<number>@{settings.sip_host}:{settings.sip_port} (UDP)")
    if not settings.twilio_auth_token:
        print(
            "WARNING: VELOX_TWILIO_AUTH_TOKEN is not set, so Twilio signatures are NOT checked;"
            " set it before exposing this service."
        )
    if key is not None:
        print(f"Created organization '{DEFAULT_ORGANIZATION}'. Its API key (shown only once):")
        print(key)
    sys.stdout.flush()
    if settings.workers > 1:
        # Each worker process builds its own app (and models) from the same environment.
        uvicorn.run(
            "app.main:create_server_app",
            factory=True,
            workers=settings.workers,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            log_config=None,  # each process's logging is Velox's own (create_server_app)
            **uvicorn_protocols(),
        )
        return
    uvicorn.run(
        create_app(settings, freeze_heap=True),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers go through Velox's (observe_process)
        **uvicorn_protocols(settings.header_timeout_s),
    )


def worker(
    settings: Settings, concurrency: int | None, beat: bool, queues: str | None = None
) -> None:
    """Migrate, then run a Celery worker; with ``beat`` it also sends the periodic tasks."""
    from celery.signals import setup_logging

    from workers.celery_app import make_celery

    observe_process(settings, "velox-worker")
    # Celery leaves the process's logging alone when something answers this signal.
    setup_logging.connect(lambda **_: None, weak=False)
    _migrate(settings)
    argv = [
        "worker",
        f"--loglevel={settings.log_level.upper()}",
        # One name per kind of worker on a machine (Celery warns about two with one name).
        f"--hostname=velox{'-' + queues.replace(',', '-') if queues else ''}@%h",
        # Worker-to-worker chatter that the embedded broker cannot carry and Velox does not use.
        "--without-mingle",
        "--without-gossip",
    ]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        argv.append("--beat")
    if queues:
        argv.append(f"--queues={queues}")
    make_celery(settings).worker_main(argv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="velox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="migrate, then run the service (host/port from settings)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    work = commands.add_parser(
        "worker", help="migrate, then run a Celery worker with beat (broker from settings)"
    )
    work.add_argument("--concurrency", type=int, default=None, help="task processes (CPUs)")
    work.add_argument(
        "--no-beat",
        dest="beat",
        action="store_false",
        help="leave the periodic tasks to a beat elsewhere (exactly one must run)",
    )
    work.add_argument(
        "--queues",
        default=None,
        help="the queues to take tasks from, comma-separated "
        "(default: all: celery,analysis,knowledge)",
    )
    orgs = commands.add_parser("orgs", help="organizations")
    org_commands = orgs.add_subparsers(dest="org_command", required=True)
    create = org_commands.add_parser("create", help="create one; prints its first API key")
    create.add_argument("name")
    keys = org_commands.add_parser("keys", help="an organization's API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    new_key = key_commands.add_parser(
        "create", help="a new API key for an existing organization (a lost key is not recoverable)"
    )
    new_key.add_argument("organization", help="the organization's id, or its name if unique")
    new_key.add_argument("--label", default="cli", help="the key's name in the audit log")
    new_key.add_argument(
        "--scope",
        action="append",
        choices=[p.value for p in Permission],
        help="restrict the key to this permission (repeat for several); default: all",
    )
    users = commands.add_parser("users", help="the people who sign in")
    user_commands = users.add_subparsers(dest="user_command", required=True)
    new_user = user_commands.add_parser(
        "create", help="invite a person; prints the one-time invite URL (valid 7 days) last"
    )
    new_user.add_argument("email")
    new_user.add_argument(
        "--role", required=True, choices=("admin", "manager", "support", "field_agent")
    )
    new_user.add_argument(
        "--org", default=DEFAULT_ORGANIZATION, help="the organization's id or unique name"
    )
    again = user_commands.add_parser(
        "invite", help="a new invite URL for an existing user (a forgotten password)"
    )
    again.add_argument("email")
    talk = commands.add_parser(
        "talk", help="a typed conversation with an agent (its replies printed; saved as any call)"
    )
    talk.add_argument("agent_id")
    talk.add_argument(
        "--url",
        default=None,
        help="the service's base URL (default: http://HOST:PORT from settings)",
    )
    talk.add_argument(
        "--key",
        default=os.environ.get("VELOX_API_KEY"),
        help="an API key of the agent's organization (default: $VELOX_API_KEY; none for a "
        "public agent)",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "serve":
        serve(settings)
    elif args.command == "worker":
        worker(settings, args.concurrency, args.beat, args.queues)
    elif args.command == "migrate":
        _migrate(settings)
        print(f"database at {settings.resolved_database_url()} is up to date", file=sys.stderr)
    elif args.command == "orgs" and args.org_command == "create":
        _migrate(settings)
        print(_create_organization(settings, args.name))
    elif args.command == "users":
        from app.people.accounts import AccountError

        _migrate(settings)
        try:
            if args.user_command == "create":
                url = _invite(settings, args.email, args.role, args.org, new=True)
            else:
                url = _invite(settings, args.email, "", "", new=False)
        except (LookupError, ValueError, AccountError) as error:
            print(f"velox: {error}", file=sys.stderr)
            return 2
        print(f"Hand this invite link to {args.email}; it works once, for 7 days:")
        print(url)
    elif args.command == "talk":
        from telephony.convai.talk import main as talk_main

        url = args.url or f"http://{_client_host(settings.host)}:{settings.port}"
        return talk_main(url, args.agent_id, args.key)
    elif args.command == "orgs":
        _migrate(settings)
        try:
            print(_create_api_key(settings, args.organization, args.label, args.scope))
        except LookupError as error:
            print(f"velox: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
