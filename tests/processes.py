"""This machine's processes as /proc shows them, for tests and benches that watch what they started."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    command: str  # the command line, arguments joined by spaces
    cpu_seconds: float  # user + system so far


def processes() -> Iterator[Process]:
    """Every process readable now; one that ends while being read is left out."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may hold spaces: the fields start after the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            yield Process(
                pid=int(stat.parent.name),
                ppid=int(fields[1]),
                command=command.strip(),
                cpu_seconds=(int(fields[11]) + int(fields[12])) / _TICK,  # utime, stime
            )
        except (OSError, ValueError, IndexError):
            continue
