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


def test_evaluate_names_the_renderer_and_the_number_of_images(finished_run, capsys):
    """Issue 24.5: `--domain sim` and `--domain photo` are different test sets; their headers were the same."""
    folder, _ = finished_run
    run = folder / "spigan"
    for domain in ("photo", "sim"):
        assert main(["evaluate", str(run), "--domain", domain, "--frames", "2", "--device", "cpu"]) == 0
        assert capsys.readouterr().out.splitlines()[0] == (
            f"{run} on sim/val ({domain}), 2 images, scored at native (each label's own resolution) [16-class]")


def test_the_end_of_training_line_names_the_data_scored(tiny, tmp_path, capsys):
    _, overrides = tiny("train.method=source_only", "train.iterations=1")
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    assert main(["train", str(tmp_path / "tiny.yaml"), *overrides, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("tiny [source_only]: mIoU ") and line.endswith(
        f" on sim/val (photo), 3 images (16-class, last checkpoint) -> {tmp_path / 'run'}")
