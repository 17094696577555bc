"""Machine and command description printed at the top of every benchmark."""

from __future__ import annotations

import os
import platform
import sys

import torch


def describe_machine() -> str:
    """Return one line naming the CPU, core count, torch threads and versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"Python {platform.python_version()}, {device}"
    )


def describe_command() -> str:
    return "python " + " ".join(sys.argv)
