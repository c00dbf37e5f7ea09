"""Writing files so that no reader ever sees half of one: build aside, fsync, rename.

Every output of the worker that another process may read (the reports, a split month's
parts, the read cache, an upload) is written under a temporary name in the folder where it
will live and renamed into place only when it is complete:

``atomic_file(path)``
    yields a new empty temporary file ``.<name>.<random>.tmp`` next to ``path``; when the
    block ends normally the file is fsynced, given its mode, renamed onto ``path`` and the
    folder fsynced; when it raises, the temporary file is removed and ``path`` is untouched.
``atomic_files(*paths)``
    the same for several files published together (all fsynced first, then renamed in the
    order given), e.g. a workbook and its JSON.
``atomic_dir(path)``
    the same for a folder ``.<name>.<random>.tmp`` (every file in it fsynced); an existing
    ``path`` is replaced, or with ``keep_existing=True`` kept (a cache another process
    filled first).
``publish(tmp, path)``
    the last step alone, for a temporary file written elsewhere (fsync, mode, rename, fsync
    of the folder).

Temporary names keep the final name, so a sweeper recognises what a killed process left
(``.job-<id>.<random>.tmp`` for the parts of job ``<id>``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_dir",
    "atomic_file",
    "atomic_files",
    "fsync_dir",
    "new_dir_mode",
    "new_file_mode",
    "publish",
]


def _umask() -> int | None:
    """The process's umask, read without changing it (None when it cannot be read)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return None


def new_file_mode() -> int:
    """The mode a newly created file gets (0666 minus the umask; 0644 when unknown)."""
    umask = _umask()
    return 0o644 if umask is None else 0o666 & ~umask


def new_dir_mode() -> int:
    """The mode a newly created folder gets (0777 minus the umask; 0755 when unknown)."""
    umask = _umask()
    return 0o755 if umask is None else 0o777 & ~umask


def fsync_dir(path: Path) -> None:
    """Make the entries of folder ``path`` (a rename into it) durable; no-op off POSIX."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_file(path: Path) -> Path:
    """A new empty file ``.<name>.<random>.tmp`` (mode 0600) in ``path``'s folder."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def publish(tmp: Path, path: Path, *, mode: int | None = None) -> None:
    """Move the complete file ``tmp`` onto ``path`` durably: fsync it, give it ``mode``
    (None: the mode a new file gets, :func:`new_file_mode`), rename it (same file system),
    fsync ``path``'s folder."""
    _fsync_file(tmp)
    os.chmod(tmp, new_file_mode() if mode is None else mode)
    os.replace(tmp, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_files(*paths: Path, mode: int | None = None) -> Iterator[list[Path]]:
    """Yield one temporary file per path (same folder, created empty); publish them all
    when the block ends normally, remove them when it raises.

    Publishing fsyncs every file and gives it ``mode`` (None: :func:`new_file_mode`) before
    the first rename, then renames them in the order given. The folders must exist.
    """
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for target in targets:
            temps.append(_temp_file(target))
        yield list(temps)
        final = new_file_mode() if mode is None else mode
        for tmp in temps:
            _fsync_file(tmp)
            os.chmod(tmp, final)
        for target in targets:
            os.replace(temps[0], target)
            del temps[0]  # published: no longer ours to remove
        for folder in dict.fromkeys(t.parent for t in targets):
            fsync_dir(folder)
    finally:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_file(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary file next to ``path``; see :func:`atomic_files`."""
    with atomic_files(path, mode=mode) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_dir(path: Path, *, mode: int | None = None, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a new empty folder ``.<name>.<random>.tmp`` next to ``path`` (its parents are
    created); when the block ends normally, fsync everything in it, give it ``mode`` (None:
    :func:`new_dir_mode`) and rename it onto ``path``; when it raises, remove it.

    An existing ``path`` is removed first; with ``keep_existing`` it is kept instead and the
    new folder discarded (also when the rename fails: the caller must be done with the
    folder's content inside the block).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        os.chmod(tmp, new_dir_mode() if mode is None else mode)
        if keep_existing:
            try:
                tmp.rename(path)  # fails when another process filled ``path`` first
            except OSError:
                return
        else:
            shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, names in os.walk(root):
        for name in names:
            _fsync_file(Path(folder) / name)
        fsync_dir(Path(folder))
