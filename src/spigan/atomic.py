"""Atomic file writes: a temporary file in the same folder, fsync, then rename. A crash or
a kill at any moment leaves either the complete new file or the old one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Calls `write(f)` on a temporary file next to `path`, then renames it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
