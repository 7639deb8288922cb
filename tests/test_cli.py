"""The `spigan` command line, run in process."""

import pytest

from spigan.cli import main


def test_bad_size_is_a_clear_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["sim", "preview", "--out", "x.png", "--size", "big"])
    assert e.value.code == 2
    assert "HEIGHTxWIDTH" in capsys.readouterr().err


def test_sim_knobs_out_of_range_are_a_one_line_error(tmp_path, capsys):
    assert main(["sim", "export", "--domain", "sim", "--count", "1", "--size", "16x32", "--out", str(tmp_path),
                 "--camera", "2"]) != 0
    assert "--camera must be in [0, 1]" in capsys.readouterr().err
