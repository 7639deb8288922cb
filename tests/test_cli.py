"""The `spigan` command line, run in process."""

import cv2
import pytest

from spigan.cli import main


def test_sim_preview_writes_a_grid(tmp_path):
    out = tmp_path / "preview.png"
    assert main(["sim", "preview", "--out", str(out), "--scenes", "2", "--size", "48x96"]) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 300
    assert image.std() > 20  # not a blank canvas


def test_bad_size_is_a_clear_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["sim", "preview", "--out", "x.png", "--size", "big"])
    assert e.value.code == 2
    assert "HEIGHTxWIDTH" in capsys.readouterr().err
