"""Which machine a benchmark ran on: every benchmark prints this next to its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def host() -> str:
    """CPU, core count, OS and Python: for benchmarks that do not use torch."""
    return (f"{cpu_name()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def torch_device(device) -> str:
    """The GPU (name, torch and CUDA versions) or the CPU with torch's thread count."""
    import torch

    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    return f"CPU {cpu_name()}, {torch.get_num_threads()} threads (torch {torch.__version__})"
