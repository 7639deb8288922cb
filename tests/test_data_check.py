"""`spigan data check`: every file of a split read, every problem listed."""

import subprocess
import sys

import numpy as np

from spigan.data import io
from spigan.data.check import check_dataset
from spigan.data.export import export


def test_data_check_lists_every_problem(tmp_path):
    export("sim", 5, 16, 32, tmp_path, progress=False)
    (tmp_path / "GT" / "LABELS" / "0000001.png").unlink()  # missing
    (tmp_path / "Depth" / "Depth" / "0000002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # corrupt
    io.write_png_atomic(tmp_path / "RGB" / "0000003.png", np.zeros((10, 10, 3), np.uint8))  # size mismatch
    bad = np.zeros((16, 32, 3), np.uint16)
    bad[0, 0, 2] = 99
    io.write_png_atomic(tmp_path / "GT" / "LABELS" / "0000004.png", bad)  # id outside SYNTHIA's
    report = check_dataset("synthia", str(tmp_path), "train", progress=False)
    problems = {p.split("/")[-1] + ":" + w for p, w in report.problems}
    assert any("0000001.png:file not found" in p for p in problems)
    assert any("0000002.png:not a readable image" in p for p in problems)
    assert any("0000003.png:label size (HxW) 16x32 differs" in p for p in problems)
    assert any("0000003.png:depth size (HxW) 16x32 differs" in p for p in problems)
    assert any("0000004.png:label id 99 is outside SYNTHIA" in p for p in problems)
    assert report.frames == 5 and report.depth_max > 0
    # In a subprocess, so that what OpenCV itself would print on stderr is seen too.
    run = subprocess.run([sys.executable, "-m", "spigan.cli", "data", "check", "--dataset", "synthia", "--root",
                          str(tmp_path), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "5 problem(s)" in run.stdout
    assert run.stderr.strip().splitlines() == [f"spigan: error: {tmp_path}: 5 malformed or missing file(s), listed above"]
