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


# Issue 24.7: smaller ones.


def test_an_unknown_simulator_split_is_a_usage_error_naming_the_splits(finished_run, capsys):
    folder, _ = finished_run
    assert main(["evaluate", str(folder / "spigan"), "--split", "vall", "--device", "cpu"]) == 2
    assert capsys.readouterr().err == "spigan: error: --split vall: the simulator's splits are train, val, test\n"


def test_config_show_needs_no_dataset_root_but_training_does(capsys):
    assert main(["config", "show", "sim2camvid"]) == 0
    out = capsys.readouterr().out
    assert "  target: camvid\n" in out and "  target_root: ''\n" in out
    assert main(["train", "sim2camvid", "--dry-run"]) == 2
    assert capsys.readouterr().err == "spigan: error: data.target_root: required for the camvid dataset\n"


def test_a_16_class_model_on_camvid_is_pointed_to_sim2camvid(finished_run, tmp_path, capsys):
    from spigan.data.export import export

    folder, _ = finished_run
    export("photo", 1, 16, 32, tmp_path / "camvid", split="val", layout="camvid", progress=False)
    assert main(["evaluate", str(folder / "spigan"), "--dataset", "camvid", "--root", str(tmp_path / "camvid"),
                 "--device", "cpu"]) == 2
    assert capsys.readouterr().err == (
        "spigan: error: CamVid has no mapping to the 16-class ontology (available: camvid-11): it scores models "
        "trained with the camvid-11 ontology (data.ontology), e.g. by the shipped config `sim2camvid`\n")


def test_every_option_of_ablate_and_report_has_help():
    from spigan.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in ("ablate", "report"):
        for action in commands[name]._actions:
            assert action.help, f"spigan {name} {action.option_strings or action.dest}: no help"


def test_a_cache_dir_that_is_a_file_is_named_with_its_key(tiny, tmp_path, capsys):
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    (tmp_path / "file").write_text("x")
    for cache, problem in ((tmp_path / "file", "is a file, not a folder"),
                           (tmp_path / "file" / "sub", "cannot keep the simulator's frames there (Not a directory)")):
        _, overrides = tiny("train.iterations=1", f"data.cache_dir={cache}")
        assert main(["train", str(tmp_path / "tiny.yaml"), *overrides, "--out", str(tmp_path / "run"), "--quiet"]) == 2
        assert capsys.readouterr().err == f"spigan: error: data.cache_dir {cache}: {problem}\n"
    assert not (tmp_path / "run").exists()
