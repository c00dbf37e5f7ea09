"""Settings from environment variables, with safe defaults (no server needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
    #: where uploads, reports and the default SQLite database live
    data_dir: Path = Path("data")
    #: SQLAlchemy URL of the results database; empty means ``sqlite:///<data_dir>/henrei.db``
    database_url: str = ""
    #: Celery broker
    broker_url: str = "redis://localhost:6379/0"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'henrei.db'}")

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_file_mb=_int("HENREI_MAX_FILE_MB", cls.max_file_mb),
            reader_memory_mb=_int("HENREI_READER_MEMORY_MB", cls.reader_memory_mb),
            reader_timeout_s=float(_int("HENREI_READER_TIMEOUT_S", int(cls.reader_timeout_s))),
            reader_processes=_int("HENREI_READER_PROCESSES", cls.reader_processes),
            # absolute, so that every process (whatever its cwd) finds the same files
            data_dir=Path(os.environ.get("HENREI_DATA_DIR") or "data").expanduser().absolute(),
            database_url=os.environ.get("HENREI_DATABASE_URL", ""),
            broker_url=os.environ.get("HENREI_BROKER_URL") or cls.broker_url,
        )
