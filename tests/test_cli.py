"""The `spigan` command line, run in process."""

import pytest

from spigan.cli import main


def test_bad_size_is_a_clear_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["sim", "preview", "--out", "x.png", "--size", "big"])
    assert e.value.code == 2
    assert "HEIGHTxWIDTH" in capsys.readouterr().err
