"""Durable file primitives: atomic replace, fsync of files and directories."""

from __future__ import annotations

import ctypes
import os
import secrets
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def fsync_dir(directory: Path) -> None:
    """Make the directory entries (creations, renames, unlinks) in `directory` durable.

    A rename is only on disk once the directory that holds it is fsynced (ext4, xfs and
    btrfs all need it; POSIX does not promise it otherwise).
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs() -> Any:
    """libc's syncfs(2) (Linux), or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_SYNCFS = _syncfs()


def rename_batch(pairs: list[tuple[Path, Path]], directory: Path) -> None:
    """Move a batch of temp files written without fsync to their final names in
    `directory`, durably: their data is flushed first — by one syncfs(2) of their
    filesystem where Linux offers it (one journal commit for the batch, not two per
    file), else by an fsync of each — then they are renamed, then the directory is
    fsynced. A crash at any point leaves each file whole under its final name, or
    only its temp file (removed at the next start)."""
    if not pairs:
        return
    flushed = False
    if _SYNCFS is not None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            flushed = _SYNCFS(fd) == 0
        finally:
            os.close(fd)
    if not flushed:
        for tmp, _final in pairs:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for tmp, final in pairs:
        os.replace(tmp, final)
    fsync_dir(directory)


def temp_path_for(path: Path) -> Path:
    """A unique temporary name beside `path`, in the same directory (same filesystem)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}{TMP_SUFFIX}")


def write_new_file(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write `data` to a file that must not exist yet, and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file.

    Temp file in the same directory, fsync, os.replace, fsync the directory.
    """
    tmp = temp_path_for(path)
    try:
        write_new_file(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def remove_stale_temps(directory: Path) -> list[Path]:
    """Delete temp files left by a crash in the middle of `atomic_write`.

    Only names made by `temp_path_for` are touched; they were never renamed into place,
    so nothing that was committed is lost by removing them.
    """
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        if entry.name.startswith(".") and entry.name.endswith(TMP_SUFFIX) and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    if removed:
        fsync_dir(directory)
    return removed
