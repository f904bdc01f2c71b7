"""BrushEdit Studio entry point.

``python main.py`` (or ``brushedit-studio``) opens the editor, optionally with a photo or project to
open; ``python main.py SUBCOMMAND ...`` (or ``brushedit SUBCOMMAND``) runs the headless tools
(``edit``, ``plan``, ``models``, ``doctor``); ``--self-test`` checks an installation end to end
offscreen. Heavy imports happen only in the branch that needs them.
"""

from __future__ import annotations

import sys

SUBCOMMANDS = {"edit", "plan", "models", "doctor", "serve"}


def _is_cli(argv: list[str]) -> bool:
    """Subcommands and CLI flags go to the CLI; so does a bare word that is not a file (a mistyped
    subcommand such as ``modles``), so it gets the CLI's one-line error instead of an editor window
    that cannot open it."""
    if not argv:
        return False
    first = argv[0]
    if first in SUBCOMMANDS or first in {"-h", "--help", "--version"}:
        return True
    from pathlib import Path

    return not first.startswith("-") and not Path(first).suffix and not Path(first).exists()


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
