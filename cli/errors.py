"""Exit codes and the one-line errors of the command line."""

from __future__ import annotations

OK = 0
USAGE = 2  # bad usage or bad input
MISSING_MODELS = 3
RUNTIME = 4
INTERRUPTED = 130
BROKEN_PIPE = 141  # the reader of stdout closed it (128 + SIGPIPE, as a shell reports it)


class CliError(Exception):
    """An error the CLI reports as ONE line on stderr and exits with ``code``."""

    def __init__(self, message: str, code: int = USAGE, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint

    def as_json(self) -> dict:
        """The failure as ``--json`` prints it on stdout: what went wrong, the fix, the exit code."""
        return {"ok": False, "error": " ".join(str(self).split()),
                "fix": " ".join(self.hint.split()) or None, "exit_code": self.code}

    def line(self) -> str:
        """The one line printed on stderr."""
        text = " ".join(str(self).split())
        if self.hint:
            text += f" ({' '.join(self.hint.split())})"
        return "brushedit: error: " + text


def from_exception(exc: BaseException) -> CliError:
    """Map an engine or document exception to a :class:`CliError` with the right exit code."""
    from engine.api import EngineError, MissingModelsError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, MissingModelsError):
        return CliError(str(exc), MISSING_MODELS, exc.hint)
    from engine.service import failure_of

    failure = failure_of(exc, None, 0)
    if failure.kind == "out-of-memory":
        return CliError(failure.error, RUNTIME, _oom_hint())
    if isinstance(exc, EngineError):
        code = {"missing-models": MISSING_MODELS, "bad-input": USAGE}.get(exc.kind, RUNTIME)
        return CliError(str(exc), code, exc.hint)
    from desktop.document.errors import DocumentWriteError

    if isinstance(exc, DocumentWriteError):  # a full or read-only disk: the input was fine
        return CliError(str(exc), RUNTIME)
    if isinstance(exc, ValueError):  # DocumentError is a ValueError too
        return CliError(str(exc), USAGE)
    if isinstance(exc, OSError):
        return CliError(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), RUNTIME)
    return CliError(f"{type(exc).__name__}: {exc}", RUNTIME, "run again with --debug for the details")


_oom_context: dict = {}


def set_oom_context(samples: int, working_size: int, cpu_offload: bool) -> None:
    """Remember the run's settings so an out-of-memory error suggests what fits."""
    _oom_context.update(samples=samples, working_size=working_size, cpu_offload=cpu_offload)


def _oom_hint() -> str:
    tips = []
    if _oom_context.get("samples", 1) != 1:  # 0: auto, which may be 4
        tips.append("fewer candidates (--samples 1)")
    if _oom_context.get("working_size", 640) > 512:
        tips.append("a smaller working size (--working-size 512)")
    if not _oom_context.get("cpu_offload", False):
        tips.append("CPU offload (--cpu-offload)")
    tips.append("closing other programs that use the GPU")
    return "try " + ", or ".join(tips)
