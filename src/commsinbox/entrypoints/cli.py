"""`commsinbox serve | worker | migrate | create-user | keys rotate | simulator`. Each command prints one JSON object on
stdout."""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import signal
import sys
from typing import Any

from ..adapters.postgres import migrate
from ..domain.model.errors import CommsInboxError
from ..domain.model.values import Role
from .config import ConfigError, Settings
from .container import owner_url, postgres_services
from .jobs import WORKER_CONCURRENCY
from .logging_setup import configure_logging, install_secret_filter


def _print(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    _print({"status": "starting", "url": f"http://{args.host}:{args.port}", "embedded": settings.database_url is None,
            "workers": args.workers, "jobWorker": not args.no_worker})
    if args.workers == 1:
        _serve_one(settings, args.host, args.port, None, reuse_port=False, run_worker=not args.no_worker)
        return 0
    owner = owner_url(settings)  # start the embedded server and migrate once, before the workers fork
    migrate.upgrade(owner)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_serve_one, args=(settings, args.host, args.port, owner), daemon=True,
                               kwargs={"run_worker": not args.no_worker})
               for _ in range(args.workers)]
    for worker in workers:
        worker.start()

    def stop(signum: int, frame: object) -> None:
        for worker in workers:
            worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.join()
    return max((w.exitcode or 0 for w in workers), default=0)


def _serve_one(settings: Settings, host: str, port: int, owner: str | None, *, reuse_port: bool = True,
               run_worker: bool = True) -> None:
    from aiohttp import web

    from .web.app import create_app

    web.run_app(create_app(settings, owner=owner, run_worker=run_worker), host=host, port=port, print=None, access_log=None,
                reuse_port=reuse_port or None)


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    """Migrates, prints the start line once connected, then runs jobs until SIGTERM or SIGINT; running jobs get
    the grace period to finish."""
    async def run() -> None:
        async with postgres_services(settings) as services:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            work = asyncio.create_task(services.job_worker.work(concurrency=args.concurrency), name="job worker")
            _print({"status": "starting", "concurrency": args.concurrency,
                    "embedded": settings.database_url is None})
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([work, stopping], return_when=asyncio.FIRST_COMPLETED)
            if work.done():  # work() only ends on an error it cannot recover from
                stopping.cancel()
                work.result()
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)

    asyncio.run(run())
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    url = owner_url(settings)
    migrate.upgrade(url)
    _print({"status": "ok", "revision": migrate.current(url)})
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        async with postgres_services(settings) as services:
            user, team_id = await services.accounts.create_user(
                args.email, args.password, full_name=args.full_name, team=args.team, role=Role(args.role))
        return {"userId": user.id, "teamId": team_id}

    _print(asyncio.run(run()))
    return 0


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        async with postgres_services(settings) as services:
            return {"status": "ok", "rotated": await services.keys.rotate(),
                    "currentKey": services.keys.box.current_key_id}

    _print(asyncio.run(run()))
    return 0


def _simulator(settings: Settings, args: argparse.Namespace) -> int:
    from ..adapters.providers.simulator import run_simulator

    _print({"status": "starting", "url": f"http://{args.host}:{args.port}", "target": args.target})
    run_simulator(args.port, args.target, host=args.host)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="commsinbox", description="One inbox for WhatsApp and Instagram.")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="API, webhooks and health; embedded PostgreSQL without DATABASE_URL")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1, choices=range(1, 65), metavar="N",
                       help="server processes sharing the port (SO_REUSEPORT); one per core is a good start")
    serve.add_argument("--no-worker", action="store_true",
                       help="run no job worker in the server; `commsinbox worker` processes run the jobs")
    serve.set_defaults(run=_serve)
    worker = commands.add_parser("worker", help="run background jobs and periodic tasks until SIGTERM or SIGINT")
    worker.add_argument("--concurrency", type=int, default=WORKER_CONCURRENCY, choices=range(1, 101), metavar="N",
                        help=f"jobs run at once (1 to 100, default {WORKER_CONCURRENCY})")
    worker.set_defaults(run=_worker)
    commands.add_parser("migrate", help="create or upgrade the schema (idempotent)").set_defaults(run=_migrate)
    user = commands.add_parser("create-user", help="create a user, and join or create a team")
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--full-name")
    user.add_argument("--team", help="id of a team to join, or the name of a new team to create")
    user.add_argument("--role", default="owner", choices=[r.value for r in Role if r is not Role.CUSTOM])
    user.set_defaults(run=_create_user)
    keys = commands.add_parser("keys", help="the credentials keyring")
    keys.add_argument("action", choices=["rotate"], help="re-seal stored credentials under the newest key")
    keys.set_defaults(run=_keys)
    simulator = commands.add_parser("simulator", help="the provider simulator (Twilio, Meta Graph, Instagram)")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8090)
    simulator.add_argument("--target", default="http://127.0.0.1:8080",
                           help="base URL of the commsinbox server that receives the webhooks")
    simulator.set_defaults(run=_simulator)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"commsinbox: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    install_secret_filter(settings.secret_values())
    try:
        return int(args.run(settings, args))
    except ConfigError as exc:
        print(f"commsinbox: configuration error: {exc}", file=sys.stderr)
        return 2
    except CommsInboxError as exc:
        print(f"commsinbox: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
