"""This process's own peak RSS, for the memory figures of the fan-out benchmarks."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_kb() -> int:
    """The highest RSS this process has had, in KB (Linux: ``VmHWM``).

    Not `resource.getrusage(...).ru_maxrss`: Linux carries that across ``exec``, so a
    process spawned by a parent holding 180 MB reports at least 180 MB whatever it uses
    itself (a `multiprocessing` spawn worker, a subprocess). ``VmHWM`` belongs to the
    process's own address space. Elsewhere, `ru_maxrss` is the best there is.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
