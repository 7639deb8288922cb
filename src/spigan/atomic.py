"""Atomic file writes: a temporary file in the same folder, fsync, then rename. A crash or
a kill at any moment leaves either the complete new file or the old one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new file `.NAME.RANDOM.tmp` beside `path`, open for writing. Created with mode 0666
    like a plain `open`, so the umask (and a folder's default ACL) decides who may read the
    result; tempfile.mkstemp's 0600 would make every output readable by its owner alone."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no unused temporary name for {path.name}")


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Calls `write(f)` on a temporary file next to `path`, then renames it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: str | Path, data) -> None:
    """Writes bytes (or a numpy buffer) to `path` atomically."""
    import numpy as np

    payload = data if isinstance(data, bytes) else np.asarray(data).tobytes()
    write_atomically(path, lambda f: f.write(payload))


def write_text_atomically(path: str | Path, text: str) -> None:
    """Writes UTF-8 text to `path` atomically."""
    write_atomically(path, lambda f: f.write(text.encode()))


def copy_atomically(src: str | Path, dst: str | Path) -> None:
    """Copies `src` to `dst` atomically."""
    import shutil

    def copy(f: BinaryIO) -> None:
        with open(src, "rb") as source:
            shutil.copyfileobj(source, f)

    write_atomically(dst, copy)


# ---------------------------------------------------------------------------------------
# Checks before work starts: an output that cannot be written should cost seconds, not a
# finished evaluation.
# ---------------------------------------------------------------------------------------


def _probe(folder: Path) -> str | None:
    """None if a file can be created in `folder`, else the reason."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".spigan-probe-")
        os.close(fd)
        os.unlink(tmp)
        return None
    except OSError as e:
        return e.strerror or str(e)


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def check_output_dir(path: str | Path, option: str, named: str | Path | None = None) -> Path:
    """`path` can be (or become) a folder we write into; creates nothing. Raises a one-line
    SpiganError naming `option` and the path (`named`, if given) otherwise."""
    from spigan.errors import SpiganError

    path = Path(path)
    name = f"{option} {named or path}"
    if path.exists() and not path.is_dir():
        raise SpiganError(f"{name}: {path} is a file, not a folder" if named else f"{name}: is a file, not a folder")
    folder = path if path.exists() else _existing_parent(path)
    if not folder.is_dir():
        raise SpiganError(f"{name}: cannot be created ({folder} is a file, not a folder)")
    reason = _probe(folder)
    if reason:
        raise SpiganError(f"{name}: cannot write there ({reason})")
    return path


def check_output_file(path: str | Path, option: str) -> Path:
    """`path` can be written as a file (its folder exists or can be created, and it is not
    a folder). Creates nothing."""
    from spigan.errors import SpiganError

    path = Path(path)
    if path.is_dir():
        raise SpiganError(f"{option} {path}: is a folder, not a file")
    check_output_dir(path.parent, option, named=path)
    return path


def make_output_dir(path: str | Path, option: str) -> Path:
    """Checks `path` (check_output_dir), then creates it."""
    from spigan.errors import SpiganError

    path = check_output_dir(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SpiganError(f"{option} {path}: cannot create the folder ({e.strerror or e})") from e
    return path
