"""``brushedit serve``: this machine's engine as a studio server (or a Ray Serve pool of them).

``--host`` defaults to 127.0.0.1; binding anything else needs a token (``--token-file`` or
``BRUSHEDIT_SERVER_TOKEN``). Needs the ``[studio]`` extra (FastAPI, uvicorn, websockets; Ray for --ray).
"""

from __future__ import annotations

import argparse
import sys

from cli.errors import USAGE, CliError
from cli.options import add_engine_options, engine_config


def add_parser(sub, common) -> None:
    p = sub.add_parser(
        "serve", parents=[common], help="run the engine as a studio server many editors paint on",
        description="Serve this machine's engine over HTTP + websockets (GET /v1/health needs no token).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--token-file", metavar="F", help="file whose first line is the bearer token "
                                                     "(default: $BRUSHEDIT_SERVER_TOKEN)")
    p.add_argument("--max-request-mb", type=float, default=256, metavar="MB",
                   help="refuse requests larger than this (default 256)")
    p.add_argument("--max-megapixels", type=float, default=64, metavar="MP",
                   help="refuse images of more pixels than this (default 64; a request may hold twice that)")
    p.add_argument("--max-queued-per-client", type=int, default=8, metavar="N",
                   help="jobs one client may have queued or running; past it 429 + Retry-After (default 8)")
    p.add_argument("--max-client-megapixels", type=float, default=None, metavar="MP",
                   help="image pixels one client may have queued (default 4 x --max-megapixels)")
    p.add_argument("--result-ttl", type=float, default=300, metavar="SECONDS",
                   help="drop results of a client that is gone after this (default 300)")
    p.add_argument("--client-grace", type=float, default=30, metavar="SECONDS",
                   help="cancel the jobs of a client whose connection closed and did not come back "
                        "within this (default 30)")
    p.add_argument("--models-root", action="append", default=[], metavar="DIR",
                   help="a folder of models whose paths editors may ask about (repeatable; the models "
                        "folder, the Hugging Face cache and the model options are always included)")
    p.add_argument("--stop-bound", type=float, default=3, metavar="SECONDS",
                   help="on SIGTERM, how long a running job may go on before it is cancelled (default 3; "
                        "all is closed within about 4 s more)")
    g = p.add_argument_group("Ray Serve pool")
    g.add_argument("--ray", action="store_true", help="serve a pool of engine replicas with Ray Serve")
    g.add_argument("--replicas", type=int, default=1, metavar="N", help="engine replicas (default 1)")
    g.add_argument("--gpus-per-replica", type=float, default=1.0, metavar="G",
                   help="GPUs each replica holds (default 1; 0 on a CPU-only machine)")
    g.add_argument("--address", metavar="A", help="join this Ray cluster (default: start a local one)")
    add_engine_options(p)
    p.set_defaults(run=run)


def settings_from(args: argparse.Namespace):
    """The server settings of the parsed options; refuses a public bind without a token."""
    from engine.server.app import ServerSettings
    from engine.server.security import is_loopback, read_token

    try:
        token = read_token(args.token_file)
    except (OSError, ValueError) as exc:
        raise CliError(f"--token-file: {exc}", USAGE) from None
    if not is_loopback(args.host) and not token:
        raise CliError(f"refusing to serve on {args.host} without a token: "
                       "give --token-file F or set BRUSHEDIT_SERVER_TOKEN", USAGE)
    if args.ray and args.replicas < 1:
        raise CliError("--replicas must be at least 1", USAGE)
    if args.max_queued_per_client < 1:
        raise CliError("--max-queued-per-client must be at least 1", USAGE)
    if args.result_ttl <= 0 or args.client_grace <= 0 or args.stop_bound < 0:
        raise CliError("--result-ttl and --client-grace must be positive, --stop-bound not negative", USAGE)
    client_mp = args.max_client_megapixels
    return ServerSettings(host=args.host, port=args.port, token=token, config=engine_config(args),
                          max_request_bytes=int(args.max_request_mb * 1024 * 1024),
                          max_pixels=int(args.max_megapixels * 1_000_000),
                          max_queued_per_client=args.max_queued_per_client,
                          max_client_pixels=int(client_mp * 1_000_000) if client_mp else None,
                          result_ttl=args.result_ttl, client_grace=args.client_grace,
                          model_roots=tuple(args.models_root), stop_bound=args.stop_bound)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not args.debug:  # a server's own warnings (stopping, refused clients) belong on its stderr
        import logging

        logging.getLogger("brushedit.server").setLevel(logging.WARNING)
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn", "websockets")):
        raise CliError("the studio server needs its extra: pip install 'brushedit-studio[studio]'", USAGE)
    where = f"http://{settings.host}:{settings.port}"
    if args.ray:
        from engine.server.ray_app import serve_pool

        print(f"brushedit: serving a pool of {args.replicas} replica(s) on {where}", file=sys.stderr, flush=True)
        serve_pool(settings, replicas=args.replicas, gpus_per_replica=args.gpus_per_replica, address=args.address)
        return 0
    from engine.server.app import serve

    print(f"brushedit: serving on {where}", file=sys.stderr, flush=True)
    serve(settings)
    return 0
