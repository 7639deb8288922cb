"""The `spigan` command line, run in process: usage errors, --debug, --help."""

from spigan.cli import main


def test_bad_size_is_a_one_line_usage_error(capsys):
    assert main(["sim", "preview", "--out", "x.png", "--size", "big"]) == 2
    err = capsys.readouterr().err
    assert "HEIGHTxWIDTH" in err and err.count("\n") == 1 and err.startswith("spigan: error: ")


def test_debug_is_accepted_before_and_after_the_subcommand(tmp_path, capsys):
    import pytest

    from spigan.errors import SpiganError

    for argv in (["--debug", "evaluate", str(tmp_path / "none.pt")], ["evaluate", str(tmp_path / "none.pt"), "--debug"]):
        with pytest.raises(SpiganError, match="checkpoint not found"):
            main(argv)


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "spigan" in capsys.readouterr().out
def test_sim_knobs_out_of_range_are_a_one_line_error(tmp_path, capsys):
    assert main(["sim", "export", "--domain", "sim", "--count", "1", "--size", "16x32", "--out", str(tmp_path),
                 "--camera", "2"]) != 0
    assert "--camera must be in [0, 1]" in capsys.readouterr().err
