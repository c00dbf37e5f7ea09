"""Settings from environment variables, with safe defaults (no server needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    #: largest input file accepted (MiB)
    max_file_mb: int = 200
    #: address-space limit of a reader child process (MiB)
    reader_memory_mb: int = 8192
    #: wall-clock limit of one file's reading (s)
    reader_timeout_s: float = 900.0
    #: files read at the same time
    reader_processes: int = 2

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_file_mb=_int("HENREI_MAX_FILE_MB", cls.max_file_mb),
            reader_memory_mb=_int("HENREI_READER_MEMORY_MB", cls.reader_memory_mb),
            reader_timeout_s=float(_int("HENREI_READER_TIMEOUT_S", int(cls.reader_timeout_s))),
            reader_processes=_int("HENREI_READER_PROCESSES", cls.reader_processes),
        )
