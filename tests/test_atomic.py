"""Atomic writes, and the checks that an output can be written before work starts."""

import os
import stat

import pytest

from spigan.atomic import (
    check_output_dir,
    check_output_file,
    copy_atomically,
    make_output_dir,
    write_bytes_atomically,
    write_text_atomically,
)
from spigan.errors import SpiganError
from spigan.cpus import check_memory


def test_atomic_writes_leave_no_temporary(tmp_path):
    write_text_atomically(tmp_path / "a" / "b.txt", "hello")
    copy_atomically(tmp_path / "a" / "b.txt", tmp_path / "c.txt")
    assert (tmp_path / "c.txt").read_text() == "hello"
    assert not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask_like_a_plain_open(tmp_path, umask, mode):
    """Issue 24.2: checkpoints, configs, results and predictions were 0600 whatever the umask."""
    from spigan.config import Config, save_config

    previous = os.umask(umask)
    try:
        write_text_atomically(tmp_path / "results.json", "{}")
        write_bytes_atomically(tmp_path / "x_labels.png", b"png")
        copy_atomically(tmp_path / "results.json", tmp_path / "copy.json")
        save_config(Config(), tmp_path / "config.yaml")
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == dict.fromkeys(["results.json", "x_labels.png", "copy.json", "config.yaml", "plain.txt"], mode)


def test_output_checks_create_nothing_and_name_the_problem(tmp_path):
    (tmp_path / "file").write_text("x")
    assert check_output_dir(tmp_path / "new" / "deeper", "--out") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()
    with pytest.raises(SpiganError, match="--out .*file: is a file, not a folder"):
        check_output_dir(tmp_path / "file", "--out")
    with pytest.raises(SpiganError, match="cannot be created .*file is a file"):
        check_output_dir(tmp_path / "file" / "sub", "--out")
    with pytest.raises(SpiganError, match="--json .*: is a folder, not a file"):
        check_output_file(tmp_path, "--json")
    with pytest.raises(SpiganError, match="--json /proc/x.json: cannot write there"):
        check_output_file("/proc/x.json", "--json")
    assert make_output_dir(tmp_path / "made", "--out").is_dir()


def test_memory_check_refuses_what_cannot_fit(monkeypatch):
    monkeypatch.setattr("spigan.cpus.available_memory", lambda: 2 * 2**30)
    check_memory(2**30, "a small thing")
    with pytest.raises(SpiganError, match="a big thing needs about 3.0 GiB of memory; 2.0 GiB are available"):
        check_memory(3 * 2**30, "a big thing")
    monkeypatch.setattr("spigan.cpus.available_memory", lambda: None)
    check_memory(10**15, "anything, where memory cannot be read")
