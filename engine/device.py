"""Where torch work runs: the device, CUDA's presence, torch's CPU threads, the weights' dtype.

Split out of the engine's owner (:class:`engine.dispatch.Engine`) so the painters, the server's
workers and the batch pool ask the same questions without importing the owner. Nothing here imports
torch at module import time; :func:`cuda_available` avoids it where the machine has no NVIDIA driver.

CPU threads in the editor
-------------------------
The editor's engine (``Engine(..., leave_core_for_gui=True)``, as :mod:`engine.service` builds it)
sets ``torch.set_num_threads(cores - 1)`` once, the first time a model loads on the CPU, so the
window keeps a core and stays responsive while the CPU paints. ``BRUSHEDIT_THREADS=N`` sets the
count instead; with ``OMP_NUM_THREADS`` set, torch's own choice is left alone. The CLI uses every
core.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any

from engine.api import EngineError, EngineStatus, WorkerInfo

log = logging.getLogger("brushedit.engine")

THREADS_ENV = "BRUSHEDIT_THREADS"
_threads_set = False


def _no_nvidia_driver() -> bool:
    """True on Linux when no NVIDIA kernel driver is loaded (nor WSL's GPU bridge): CUDA cannot run."""
    return sys.platform.startswith("linux") and not any(
        os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidia0", "/dev/dxg"))


def cuda_available() -> bool:
    """Whether torch sees a CUDA device. Imports torch, unless torch is not loaded yet and the machine
    has no NVIDIA driver at all: then the answer is no, and a fill edit or an ``auto`` plan on a CPU
    machine does not pay torch's start-up to learn it."""
    if "torch" not in sys.modules and _no_nvidia_driver():
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def wants_cuda(config: Any) -> bool:
    """Whether a configuration runs on CUDA: not ``device="cpu"``, and a CUDA device exists."""
    return config.device != "cpu" and cuda_available()


def resolve_device(config: Any) -> str:
    """The device the engine will use: ``config.device``, or for ``auto`` whether CUDA exists."""
    device = str(getattr(config, "device", "auto") or "auto")
    if device != "auto":
        return device
    return "cuda" if cuda_available() else "cpu"


def pick_device(config: Any, leave_core_for_gui: bool = False) -> str:
    """The torch device requests run on: ``"cuda"`` or ``"cpu"`` (imports torch unless ``cpu``).

    On the CPU inside the editor (``leave_core_for_gui``), torch's threads are limited once
    (:func:`limit_cpu_threads`): every model loader asks for the device first, so this is the one
    place torch work on the CPU begins.

    Raises
    ------
    EngineError
        ``device="cuda"`` and no CUDA device (kind ``"no-device"``).
    """
    if config.device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    elif config.device == "cuda" and not cuda_available():
        raise EngineError("device cuda was asked for, but no CUDA GPU is available",
                          hint="use device cpu (slow), or check the NVIDIA driver with: brushedit doctor",
                          kind="no-device")
    else:
        device = config.device
    if device == "cpu" and leave_core_for_gui:
        limit_cpu_threads()
    return device


def has_usable_device(config: Any) -> bool:
    """Whether ``auto`` may pick a diffusion painter: a CUDA GPU, or the CPU when set explicitly."""
    if config.device == "cpu":
        return True
    return cuda_available()


def cpu_thread_count(cpu_count: int | None = None, environ: Any = None) -> int | None:
    """The torch thread count for an engine that shares the machine with the editor, or ``None``.

    ``BRUSHEDIT_THREADS`` (a positive integer) wins; when ``OMP_NUM_THREADS`` is set the user (or
    their launcher) chose already, so torch is left alone (``None``); otherwise every core but one,
    so the window keeps a core to repaint and stays responsive while the CPU paints.
    """
    environ = os.environ if environ is None else environ
    wanted = str(environ.get(THREADS_ENV, "")).strip()
    if wanted:
        try:
            return max(1, int(wanted))
        except ValueError:
            log.warning("%s=%r is not a number; ignored", THREADS_ENV, wanted)
    if str(environ.get("OMP_NUM_THREADS", "")).strip():
        return None
    count = os.cpu_count() if cpu_count is None else cpu_count
    return max(1, (count or 2) - 1)


def limit_cpu_threads() -> int | None:
    """Apply :func:`cpu_thread_count` to torch, once per process; returns the count set (or ``None``).

    Called by an engine that runs on the CPU inside the editor (not by the CLI, which may take every
    core). Imports torch: only call it when torch work is about to run anyway.
    """
    global _threads_set
    if _threads_set:
        return None
    _threads_set = True
    threads = cpu_thread_count()
    if threads is None:
        return None
    import torch

    torch.set_num_threads(threads)
    log.info("CPU engine: %d torch threads (one core left to the editor)", threads)
    return threads


def torch_dtype(name: str | None):
    """The torch dtype named ``"float16"``, ``"bfloat16"`` or ``"float32"``; ``None`` for ``None``."""
    if name is None:
        return None
    import torch

    return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[name]


def empty_cuda_cache() -> None:
    """Return cached CUDA memory to the driver when torch is loaded (never imports torch)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort
            pass


def worker_info(device: str = "") -> WorkerInfo:
    """This process, as provenance records the painter: host name, pid and device."""
    return WorkerInfo(socket.gethostname(), os.getpid(), device)


def engine_status() -> EngineStatus:
    """Where torch work runs now and the GPU memory it holds, without importing torch.

    Reports ``"cuda"`` only once torch is imported *and* has initialised CUDA (a job used the GPU):
    asking an uninitialised driver would create a CUDA context just to answer. Anything else is
    ``"cpu"``. Never raises: a failing driver query leaves the figures unknown.
    """
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None) if torch is not None else None
    try:
        if cuda is None or not cuda.is_initialized():
            return EngineStatus("cpu")
    except Exception:  # pragma: no cover - a half-imported torch
        return EngineStatus("cpu")
    name, used, total = "", None, None
    try:
        index = cuda.current_device()
        name = str(cuda.get_device_name(index))
        used = int(cuda.memory_allocated(index))
        total = int(cuda.mem_get_info(index)[1])
    except Exception:  # pragma: no cover - driver trouble: show what is known
        logging.getLogger("brushedit.engine").debug("GPU memory query failed", exc_info=True)
    return EngineStatus("cuda", name, used, total)
