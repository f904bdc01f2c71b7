"""The headless command line: ``edit``, ``plan``, ``models``, ``doctor``.

``python main.py SUBCOMMAND ...`` or the installed ``brushedit SUBCOMMAND ...``. Exit codes: 0
success; 2 bad usage or bad input; 3 missing models (the message names them and the exact
``brushedit models download`` command); 4 runtime failure (out of memory, ...); 5 ``batch`` ran but
some photos were not edited (each says why in its report.jsonl). Every error is ONE
line on stderr, without a traceback (``--debug`` shows it). Progress goes to stderr; results to
stdout (``--json`` for scripts). torch is imported only by the commands that need it.
"""

from __future__ import annotations

import argparse
import sys

from cli.errors import BROKEN_PIPE, INTERRUPTED, OK, USAGE, CliError, from_exception

PROG = "brushedit"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2) instead of usage + message.

    Prefix matching is off (``allow_abbrev=False``) for this parser and every sub-parser made from
    it: ``plan --mask FILE`` once read as ``--mask-out FILE`` and wrote over the user's mask."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        raise CliError(f"{message} (see: {self.prog} --help)", USAGE)


def _version() -> str:
    from engine.version import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (used by tests and ``--help``)."""
    parser = _Parser(
        prog=PROG,
        description="BrushEdit Studio from the shell: instruction-driven photo editing with BrushNet.",
        epilog="exit codes: 0 ok, 2 bad usage/input, 3 missing models, 4 runtime failure, "
               "5 batch: some photos not edited, 130 interrupted, 141 stdout closed by its reader",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    common.add_argument("--debug", action="store_true", help="show tracebacks and engine logs")

    from cli import batch, doctor, edit, models_cmd, plan, serve

    edit.add_parser(sub, common)
    plan.add_parser(sub, common)
    models_cmd.add_parser(sub, common)
    doctor.add_parser(sub, common)
    serve.add_parser(sub, common)
    batch.add_parser(sub, common)
    return parser


def main(argv: list[str]) -> int:
    """Run the CLI with ``argv`` (without the program name); returns the exit code."""
    debug = "--debug" in argv
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version print and exit 0
            return int(exc.code or 0) if not isinstance(exc.code, str) else USAGE
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return USAGE
        _configure_logging(debug)
        code = int(args.run(args) or OK)
        sys.stdout.flush()  # here, not at exit: a reader that went away is answered below, not by a traceback
        return code
    except BrokenPipeError:
        # The reader went away (``brushedit doctor --json | head``): stop quietly, as ls or cat do, not
        # with two tracebacks. Later writes (and the interpreter's final flush) go to /dev/null.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except KeyboardInterrupt:
        sys.stderr.write("brushedit: cancelled\n")
        _print_json_failure(argv, CliError("cancelled", INTERRUPTED))
        return INTERRUPTED
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line and an exit code
        if isinstance(exc, SystemExit):
            raise
        if debug:
            import traceback

            traceback.print_exc()
        error = from_exception(exc)
        sys.stderr.write(error.line() + "\n")
        sys.stderr.flush()
        _print_json_failure(argv, error)
        return error.code


def _print_json_failure(argv: list[str], error: CliError) -> None:
    """With ``--json`` a script reads stdout: one JSON object says what failed and the fix (it got
    nothing when ``plan --json`` could not finish). Nothing else is printed after a failure."""
    if "--json" not in argv[: argv.index("--") if "--" in argv else len(argv)]:
        return
    import json

    sys.stdout.write(json.dumps(error.as_json(), indent=2) + "\n")
    sys.stdout.flush()


def _configure_logging(debug: bool) -> None:
    import logging
    import os
    import warnings

    logging.basicConfig(level=logging.INFO if debug else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not debug:
        # Library chatter (deprecations, "some weights not used") is not for a CLI user's stderr.
        warnings.filterwarnings("ignore")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
        # Libraries' own bars ("Loading weights", hub downloads) would duplicate ours.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        # The engine logs a job's traceback at ERROR; the CLI prints one line instead.
        logging.getLogger("brushedit").setLevel(logging.CRITICAL)
