"""BrushEdit Studio entry point.

``python main.py`` (or ``brushedit-studio``) opens the editor, optionally with a photo or project to
open; ``python main.py SUBCOMMAND ...`` (or ``brushedit SUBCOMMAND``) runs the headless tools
(``edit``, ``plan``, ``models``, ``doctor``); ``--self-test`` checks an installation end to end
offscreen. Heavy imports happen only in the branch that needs them.
"""

from __future__ import annotations

import sys

SUBCOMMANDS = {"edit", "plan", "models", "doctor"}


def _is_cli(argv: list[str]) -> bool:
    return bool(argv) and (argv[0] in SUBCOMMANDS or argv[0] in {"-h", "--help", "--version"})


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--self-test"]:
        from desktop.ui.self_test import run_self_test

        return run_self_test(argv[1:])
    if _is_cli(argv):
        from cli import main as cli_main

        return cli_main(argv)
    from desktop.ui.app import run

    return run(argv)


def cli_entry() -> None:
    """Console-script entry of ``brushedit``: always the CLI."""
    from cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


def gui_entry() -> None:
    """GUI-script entry of ``brushedit-studio``."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
