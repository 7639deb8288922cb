"""Bad input, table-driven: every case goes through the `spigan` command line and must give
exit code 2, one line naming the file (or key) and the problem, no traceback, and leave
every file that existed before untouched."""

import hashlib
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from spigan.checkpoint import load_checkpoint
from spigan.cli import main
from spigan.data.export import export
from spigan.train import train


class _CreatesFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny):
    """A finished tiny run, good dataset folders, and a few files to break."""
    root = tmp_path_factory.mktemp("world")
    cfg, _ = tiny("train.iterations=1")
    train(cfg, root / "run", progress=False)
    export("photo", 2, 16, 32, root / "camvid", split="val", layout="camvid", progress=False)
    export("photo", 2, 16, 32, root / "cityscapes", split="val", progress=False)
    export("sim", 2, 16, 32, root / "synthia", progress=False)
    export("photo", 2, 16, 32, root / "vistas", split="val", layout="vistas", progress=False)
    export("photo", 2, 16, 32, root / "folder", split="val", layout="folder", progress=False)
    (root / "tiny.yaml").write_text("name: tiny\n")
    (root / "street.png").write_bytes(cv2.imencode(".png", np.zeros((16, 32, 3), np.uint8))[1].tobytes())
    (root / "gray.png").write_bytes(cv2.imencode(".png", np.zeros((16, 32), np.uint8))[1].tobytes())
    return root


def copy_dataset(world, name, tmp):
    dst = tmp / name
    shutil.copytree(world / name, dst)
    return dst


def first(folder: Path, pattern: str) -> Path:
    return sorted(folder.rglob(pattern))[0]


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def tamper_checkpoint(world, tmp, change) -> Path:
    state = load_checkpoint(world / "run" / "checkpoints" / "last.pt")
    change(state)
    path = tmp / "tampered.pt"
    torch.save(state, path)
    return path


# Each case: (id, setup(world, tmp) -> argv, expected substring of the message)
CASES = [
    # configuration
    ("yaml-unknown-section", lambda w, t: ["train", _write(t, "c.yaml", "trian: {lr: 1}\n")], "trian: unknown key"),
    ("yaml-unknown-key", lambda w, t: ["train", _write(t, "c.yaml", "train: {lrr: 1}\n")], "train.lrr: unknown key"),
    ("yaml-wrong-int", lambda w, t: ["train", _write(t, "c.yaml", "train: {iterations: ten}\n")],
     "train.iterations: expected an integer"),
    ("yaml-wrong-bool", lambda w, t: ["train", _write(t, "c.yaml", "early_stopping: {halt: 3}\n")],
     "early_stopping.halt: expected true or false"),
    ("yaml-wrong-tuple", lambda w, t: ["train", _write(t, "c.yaml", "data: {size: [64]}\n")],
     "data.size: expected a list of 2"),
    ("yaml-syntax", lambda w, t: ["train", _write(t, "c.yaml", "train: {lr: [1\n")], "not valid YAML"),
    ("yaml-not-mapping", lambda w, t: ["train", _write(t, "c.yaml", "- 1\n- 2\n")], "must be a mapping"),
    ("config-missing", lambda w, t: ["train", str(t / "nope.yaml")], "nope.yaml: cannot read config"),
    ("override-wrong-type", lambda w, t: ["train", str(w / "tiny.yaml"), "train.lr=fast"],
     "train.lr: expected a number"),
    ("method-unknown", lambda w, t: ["train", str(w / "tiny.yaml"), "train.method=cyclegan"],
     "train.method: 'cyclegan' is not one of"),
    ("size-not-multiple-of-4", lambda w, t: ["train", str(w / "tiny.yaml"), "data.size=[30,64]"], "multiples of 4"),
    ("crop-larger-than-size", lambda w, t: ["train", str(w / "tiny.yaml"), "data.size=[32,64]", "data.crop=[64,64]"],
     "crop within size"),
    ("protocol-mismatch", lambda w, t: ["train", str(w / "tiny.yaml"), "data.ontology=camvid-11",
                                        "data.protocol=13-class"], "scored with the camvid-11 protocol"),
    ("ontology-unknown", lambda w, t: ["train", str(w / "tiny.yaml"), "data.ontology=19-class"],
     "data.ontology: '19-class' is not one of"),
    ("dataset-unknown", lambda w, t: ["train", str(w / "tiny.yaml"), "data.target=kitti"],
     "data.target: unknown dataset 'kitti'"),
    ("dataset-wrong-role", lambda w, t: ["train", str(w / "tiny.yaml"), "data.source=camvid"],
     "data.source: unknown dataset 'camvid' (a source can be: sim, synthia, carla, carla_legacy, folder)"),
    ("dataset-root-missing", lambda w, t: ["train", str(w / "tiny.yaml"), "data.target=cityscapes"],
     "data.target_root: required"),
    ("precision-unknown", lambda w, t: ["train", str(w / "tiny.yaml"), "train.precision=fp8"],
     "train.precision: 'fp8'"),
    ("run-exists", lambda w, t: ["train", str(w / "tiny.yaml"), "--out", str(w / "run")], "a run already exists"),
    ("resume-without-checkpoint", lambda w, t: ["train", "--resume", str(t)], "last.pt: checkpoint not found"),
    # checkpoints
    ("checkpoint-missing", lambda w, t: ["evaluate", str(t / "none.pt")], "none.pt: checkpoint not found"),
    ("checkpoint-garbage", lambda w, t: ["evaluate", _write(t, "junk.pt", "not a checkpoint")],
     "junk.pt: not a loadable checkpoint"),
    ("checkpoint-pickled-code", lambda w, t: ["evaluate", _pickle(t, "evil.pt", {"x": _CreatesFile(str(t / "pwned"))})],
     "evil.pt: not a loadable checkpoint"),
    ("checkpoint-not-spigan", lambda w, t: ["evaluate", _torch_save(t, "other.pt", {"weights": torch.zeros(2)})],
     "other.pt: not a spigan checkpoint"),
    ("checkpoint-classes-differ", lambda w, t: ["evaluate", str(tamper_checkpoint(
        w, t, lambda s: s.__setitem__("classes", ["road", "sky"])))], "checkpoint's classes"),
    ("checkpoint-architecture-differs", lambda w, t: ["evaluate", str(tamper_checkpoint(
        w, t, lambda s: s["config"]["model"].__setitem__("fcn_width", 16)))], "does not match its own config"),
    # datasets
    ("root-missing", lambda w, t: ["data", "check", "--dataset", "camvid", "--root", str(t / "nothing"),
                                   "--split", "val"], "dataset root not found"),
    ("layout-wrong", lambda w, t: ["data", "check", "--dataset", "cityscapes", "--root", str(w / "camvid"),
                                   "--split", "val"], "expected the Cityscapes layout"),
    ("split-empty", lambda w, t: ["data", "check", "--dataset", "camvid", "--root", str(_empty_camvid(t)),
                                  "--split", "val"], "no *.png images found"),
    ("png-truncated", lambda w, t: _broken(w, t, "camvid", "val/*.png", truncate), "not a readable image"),
    # photos in gray, RGBA or 16 bits are converted (test_data_io); floats would be a guess
    ("image-float", lambda w, t: _broken(w, t, "camvid", "val/*.png", _to_float),
     "expected an 8- or 16-bit image, got float32"),
    ("image-int32", lambda w, t: _broken(w, t, "camvid", "val/*.png", _to_int32),
     "expected an 8- or 16-bit image, got int32"),
    ("label-size-mismatch", lambda w, t: _broken(w, t, "camvid", "valannot/*.png", _shrink),
     "label size (HxW) 8x16 differs from its image's 16x32"),
    ("label-id-outside", lambda w, t: _broken(w, t, "camvid", "valannot/*.png", _id_200),
     "label id 200 is outside CamVid's ids"),
    ("label-not-single-channel", lambda w, t: _broken(w, t, "cityscapes", "*_labelIds.png", _to_color),
     "expected an 8-bit single-channel label image"),
    ("synthia-label-8-bit", lambda w, t: _broken(w, t, "synthia", "GT/LABELS/*.png", _to_color),
     "expected SYNTHIA's 16-bit multi-channel label PNG"),
    ("depth-not-16-bit", lambda w, t: _broken(w, t, "synthia", "Depth/Depth/*.png", _to_gray),
     "expected a 16-bit depth PNG"),
    ("depth-channels-differ", lambda w, t: _broken(w, t, "synthia", "Depth/Depth/*.png", _depth_3ch),
     "multi-channel depth PNG whose channels differ"),
    ("jpeg-truncated", lambda w, t: _broken(w, t, "vistas", "*.jpg", truncate), "not a readable image"),
    ("vistas-config-missing", lambda w, t: _broken(w, t, "vistas", "config.json", lambda p: p.unlink()),
     "no config.json or config_v1.2.json"),
    ("symlink-outside-root", lambda w, t: _broken(w, t, "camvid", "val/*.png", _symlink_out), "outside the dataset root"),
    ("lr-negative", lambda w, t: ["train", str(w / "tiny.yaml"), "train.lr=-1"], "train.lr: must be positive"),
    ("seed-negative", lambda w, t: ["train", str(w / "tiny.yaml"), "train.seed=-1"], "train.seed: must be at least 0"),
    ("beta-out-of-range", lambda w, t: ["train", str(w / "tiny.yaml"), "train.beta1=1.5"],
     "train.beta1: must be in [0, 1)"),
    ("weight-negative", lambda w, t: ["train", str(w / "tiny.yaml"), "loss.privileged=-0.1"],
     "loss.privileged: must be at least 0"),
    ("frames-zero", lambda w, t: ["train", str(w / "tiny.yaml"), "data.val_frames=0"],
     "data.val_frames: must be at least 1"),
    ("eval-size-unknown", lambda w, t: ["train", str(w / "tiny.yaml"), "data.eval_size=full"],
     "data.eval_size: 'full' is not one of"),
    ("threads-negative", lambda w, t: ["train", str(w / "tiny.yaml"), "train.threads=-2"], "train.threads: must be"),
    ("override-without-equals", lambda w, t: ["train", str(w / "tiny.yaml"), "lr"], "override 'lr': expected key=value"),
    ("override-into-a-value", lambda w, t: ["train", str(w / "tiny.yaml"), "train.lr.x=1"], "train.lr: expected a number"),
    ("train-out-is-a-file", lambda w, t: ["train", str(w / "tiny.yaml"), "--out", str(w / "street.png")],
     "street.png: is a file, not a folder"),
    ("train-out-unwritable", lambda w, t: ["train", str(w / "tiny.yaml"), "--out", "/proc/spigan-run"],
     "--out /proc/spigan-run: cannot write there"),
    ("train-huge-frames", lambda w, t: ["train", str(w / "tiny.yaml"), "data.size=[20000,40000]", "data.crop=[0,0]"],
     "training images of 20000x40000"),
    ("resume-with-overrides", lambda w, t: ["train", "--resume", str(w / "run"), "model.fcn_width=32"],
     "model.fcn_width: cannot be changed on --resume (8 in the checkpoint, 32 in command line)"),
    ("resume-missing-folder", lambda w, t: ["train", "--resume", str(t / "nothing")], "checkpoint not found"),
    # evaluate
    ("evaluate-json-unwritable", lambda w, t: ["evaluate", _ckpt(w), "--json", "/proc/scores.json"],
     "--json /proc/scores.json: cannot write there"),
    ("evaluate-json-is-a-folder", lambda w, t: ["evaluate", _ckpt(w), "--json", str(t)], "is a folder, not a file"),
    ("evaluate-baseline-other-classes", lambda w, t: ["evaluate", _ckpt(w), "--baseline", _camvid_ckpt(w, t)],
     "predicts the camvid-11 classes"),
    ("evaluate-frames-zero", lambda w, t: ["evaluate", _ckpt(w), "--frames", "0"], "must be at least 1"),
    ("evaluate-dataset-unknown", lambda w, t: ["evaluate", _ckpt(w), "--dataset", "kitti", "--root", str(t)],
     "--dataset kitti: unknown dataset"),
    ("evaluate-root-missing", lambda w, t: ["evaluate", _ckpt(w), "--dataset", "camvid"], "--root: required"),
    ("evaluate-protocol-mismatch", lambda w, t: ["evaluate", _ckpt(w), "--protocol", "camvid-11"],
     "does not apply to a 16-class model"),
    ("evaluate-split-missing", lambda w, t: ["evaluate", _ckpt(w), "--dataset", "camvid", "--root", str(w / "camvid"),
                                             "--split", "test"], "expected the CamVid SegNet layout"),
    ("evaluate-eval-size-unknown", lambda w, t: ["evaluate", _ckpt(w), "--eval-size", "half"], "invalid choice"),
    ("checkpoint-text-file", lambda w, t: ["evaluate", _write(t, "notes.pt", "training went well\n")],
     "notes.pt: not a loadable checkpoint (not a PyTorch file"),
    ("checkpoint-empty", lambda w, t: ["evaluate", _write(t, "empty.pt", "")], "empty.pt: not a loadable checkpoint"),
    ("checkpoint-truncated", lambda w, t: ["evaluate", _truncated_copy(w, t)], "cut.pt: not a loadable checkpoint"),
    ("checkpoint-is-a-folder", lambda w, t: ["evaluate", str(t)], "is a folder, not a checkpoint file"),
    # predict
    ("predict-out-is-a-file", lambda w, t: ["predict", _ckpt(w), str(w / "street.png"), "--out", str(w / "gray.png")],
     "gray.png: is a file, not a folder"),
    ("predict-out-unwritable", lambda w, t: ["predict", _ckpt(w), str(w / "street.png"), "--out", "/proc/pred"],
     "--out /proc/pred: cannot write there"),
    ("predict-image-is-an-empty-folder", lambda w, t: ["predict", _ckpt(w), str(t), "--out", str(t / "pred")],
     "no images or videos in this folder"),
    ("predict-image-corrupt", lambda w, t: ["predict", _ckpt(w), _corrupt_png(t), "--out", str(t / "pred")],
     "broken.png: not a readable image"),
    ("predict-image-float", lambda w, t: ["predict", _ckpt(w), _float_tiff(t), "--out", str(t / "pred")],
     "float.tif: expected an 8- or 16-bit image, got float32"),
    ("predict-checkpoint-missing", lambda w, t: ["predict", str(t / "no.pt"), str(w / "street.png"), "--out",
                                                 str(t / "pred")], "no.pt: checkpoint not found"),
    # sim
    ("preview-scenes-zero", lambda w, t: ["sim", "preview", "--out", str(t / "p.png"), "--scenes", "0"],
     "--scenes: must be at least 1"),
    ("preview-scenes-too-many", lambda w, t: ["sim", "preview", "--out", str(t / "p.png"), "--scenes", "1000"],
     "--scenes: at most 64"),
    ("preview-unknown-format", lambda w, t: ["sim", "preview", "--out", str(t / "p.xyz")], "unknown image format '.xyz'"),
    ("preview-out-is-a-folder", lambda w, t: ["sim", "preview", "--out", str(t)], "is a folder, not a file"),
    ("preview-huge", lambda w, t: ["sim", "preview", "--out", str(t / "p.png"), "--size", "20000x40000"],
     "--size 20000x40000: the preview needs about"),
    ("export-count-negative", lambda w, t: ["sim", "export", "--domain", "sim", "--count", "-5", "--size", "32x64",
                                            "--out", str(t / "x")], "--count: must be at least 1"),
    ("export-count-not-a-number", lambda w, t: ["sim", "export", "--domain", "sim", "--count", "many", "--size",
                                                "32x64", "--out", str(t / "x")], "'many' is not a whole number"),
    ("export-out-is-a-file", lambda w, t: ["sim", "export", "--domain", "sim", "--count", "2", "--size", "32x64",
                                           "--out", str(w / "street.png")], "is a file, not a folder"),
    ("export-layout-of-other-domain", lambda w, t: ["sim", "export", "--domain", "sim", "--count", "2", "--size",
                                                    "32x64", "--out", str(t / "x"), "--layout", "camvid"],
     "the sim domain is exported as synthia"),
    ("export-huge", lambda w, t: ["sim", "export", "--domain", "photo", "--count", "1", "--size", "20000x40000",
                                  "--out", str(t / "x")], "rendering one frame needs about"),
    # data check
    ("check-json-unwritable", lambda w, t: ["data", "check", "--dataset", "camvid", "--root", str(w / "camvid"),
                                            "--split", "val", "--json", "/proc/check.json"], "cannot write there"),
    ("check-dataset-sim", lambda w, t: ["data", "check", "--dataset", "sim", "--root", str(t)], "invalid choice"),
    ("check-root-is-a-file", lambda w, t: ["data", "check", "--dataset", "camvid", "--root", str(w / "street.png")],
     "street.png: is a file, not a dataset folder"),
    ("vistas-config-corrupt", lambda w, t: _broken(w, t, "vistas", "config.json",
                                                   lambda p: p.write_text("{labels: ")), "not a Vistas config"),
    # ablate, report, demo
    ("ablate-seeds-zero", lambda w, t: ["ablate", str(w / "tiny.yaml"), "--seeds", "0", "--out", str(t / "a")],
     "--seeds: must be at least 1"),
    ("ablate-jobs-zero", lambda w, t: ["ablate", str(w / "tiny.yaml"), "--jobs", "0", "--out", str(t / "a")],
     "--jobs: must be at least 1"),
    ("ablate-warm-start-negative", lambda w, t: ["ablate", str(w / "tiny.yaml"), "--warm-start", "-1", "--out",
                                                 str(t / "a")], "--warm-start: must be at least 0, got -1"),
    ("ablate-out-is-a-file", lambda w, t: ["ablate", str(w / "tiny.yaml"), "--out", str(w / "street.png")],
     "is a file, not a folder"),
    ("ablate-config-missing", lambda w, t: ["ablate", str(t / "none.yaml"), "--out", str(t / "a")],
     "none.yaml: cannot read config"),
    ("ablate-method-unknown", lambda w, t: ["ablate", str(w / "tiny.yaml"), "--methods", "cyclegan"], "invalid choice"),
    ("report-not-a-run", lambda w, t: ["report", str(t), "--out", str(t / "r")], "not a finished run"),
    ("report-same-run-twice", lambda w, t: ["report", str(w / "run"), _copy_run(w, t), "--out", str(t / "r")],
     "same method (spigan) and seed (0)"),
    ("report-results-corrupt", lambda w, t: ["report", _copy_run(w, t, results="{"), "--out", str(t / "r")],
     "not a spigan results.json"),
    ("report-out-is-a-file", lambda w, t: ["report", str(w / "run"), "--out", str(w / "street.png")],
     "is a file, not a folder"),
    ("demo-out-is-a-file", lambda w, t: ["demo", "--out", str(w / "street.png")], "is a file, not a folder"),
    ("demo-override-unknown", lambda w, t: ["demo", "--out", str(t / "d"), "trian.lr=1"], "trian: unknown key"),
    # issue 15: named configs and bases, resume overrides, devices, predict inputs, export, folder datasets
    ("config-name-unknown", lambda w, t: ["train", "nodemo"], "nodemo: cannot read config (no such file, and no "
                                                                 "shipped config of that name"),
    ("config-base-missing", lambda w, t: ["train", _write(t, "c.yaml", "base: gone.yaml\n")],
     "base: gone.yaml not found"),
    ("config-base-circle", lambda w, t: ["train", _write(t, "c.yaml", "base: c.yaml\n")], "includes itself"),
    ("config-base-not-a-name", lambda w, t: ["train", _write(t, "c.yaml", "base: {a: 1}\n")],
     "base: expected a config file name"),
    ("config-show-unknown-key", lambda w, t: ["config", "show", "demo", "train.lrr=1"], "train.lrr: unknown key"),
    ("config-show-missing", lambda w, t: ["config", "show", str(t / "none.yaml")], "none.yaml: cannot read config"),
    ("image-every-negative", lambda w, t: ["train", str(w / "tiny.yaml"), "train.image_every=-1"],
     "train.image_every: must be at least 0"),
    ("validate-every-negative", lambda w, t: ["train", str(w / "tiny.yaml"), "train.validate_every=-5"],
     "train.validate_every: must be at least 0"),
    ("dry-run-root-missing", lambda w, t: ["train", str(w / "tiny.yaml"), "--dry-run", "data.target=camvid",
                                           f"data.target_root={t / 'none'}"], "dataset root not found"),
    ("resume-unknown-key", lambda w, t: ["train", "--resume", str(w / "run"), "train.lrr=1"], "train.lrr: unknown key"),
    ("resume-with-a-config", lambda w, t: ["train", str(w / "tiny.yaml"), "--resume", str(w / "run")],
     "--resume continues a run with its own config: give no CONFIG"),
    ("resume-with-out", lambda w, t: ["train", "--resume", str(w / "run"), "--out", str(t / "x")],
     "--out: not with --resume"),
    ("resume-edited-config-unsafe", lambda w, t: ["train", "--resume", _edited_run(w, t, "task: 0.5", "task: 0.9")],
     "loss.task: cannot be changed on --resume (0.5 in the checkpoint, 0.9 in"),
    ("resume-edited-config-broken", lambda w, t: ["train", "--resume", _edited_run(w, t, "lr:", "lrr:")],
     "config.yaml: train.lrr: unknown key"),
    ("evaluate-device-unknown", lambda w, t: ["evaluate", _ckpt(w), "--device", "tpu"],
     "--device: 'tpu' is not auto, cpu, cuda or cuda:N"),
    ("predict-device-unknown", lambda w, t: ["predict", _ckpt(w), str(w / "street.png"), "--out", str(t / "p"),
                                             "--device", "gpu0"], "--device: 'gpu0' is not auto"),
    ("predict-folder-empty", lambda w, t: ["predict", _ckpt(w), _folder_of_notes(t), "--out", str(t / "p")],
     "no images or videos in this folder"),
    ("predict-glob-no-match", lambda w, t: ["predict", _ckpt(w), str(t / "*.png"), "--out", str(t / "p")],
     "no image or video matches this pattern"),
    ("predict-video-unreadable", lambda w, t: ["predict", _ckpt(w), _write(t, "drive.mp4", "no frames here"),
                                               "--out", str(t / "p")], "drive.mp4: not a readable video"),
    ("predict-alpha-out-of-range", lambda w, t: ["predict", _ckpt(w), str(w / "street.png"), "--out", str(t / "p"),
                                                 "--alpha", "2"], "--alpha: must be in [0, 1]"),
    ("predict-batch-size-zero", lambda w, t: ["predict", _ckpt(w), str(w / "street.png"), "--out", str(t / "p"),
                                              "--batch-size", "0"], "--batch-size: must be at least 1"),
    ("predict-run-folder-without-checkpoints", lambda w, t: ["predict", _empty_run(t), str(w / "street.png"),
                                                             "--out", str(t / "p")],
     "no checkpoints/early_stop.pt or checkpoints/last.pt"),
    ("export-format-unknown", lambda w, t: ["export", _ckpt(w), "--format", "tflite", "--out", str(t / "m")],
     "invalid choice: 'tflite'"),
    ("export-out-is-a-folder", lambda w, t: ["export", _ckpt(w), "--out", str(t)], "is a folder, not a file"),
    ("export-out-unwritable", lambda w, t: ["export", _ckpt(w), "--out", "/proc/model.pt"], "cannot write there"),
    ("export-checkpoint-missing", lambda w, t: ["export", str(t / "none.pt"), "--out", str(t / "m.pt")],
     "none.pt: checkpoint not found"),
    ("folder-mapping-missing", lambda w, t: _broken(w, t, "folder", "mapping.yaml", lambda p: p.unlink()),
     "mapping.yaml: not found"),
    ("folder-mapping-unknown-class", lambda w, t: _broken(w, t, "folder", "mapping.yaml", _street_class),
     "'street' is not a 16-class class"),
    ("folder-label-value-unmapped", lambda w, t: _broken(w, t, "folder", "*_label.png", _id_200),
     "label value 200 is neither a class nor ignored"),
    ("folder-images-missing", lambda w, t: _broken(w, t, "folder", "images", shutil.rmtree),
     "expected the folder dataset layout"),
    # the command line itself
    ("unknown-subcommand", lambda w, t: ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("unknown-option", lambda w, t: ["evaluate", _ckpt(w), "--bogus"], "unrecognized arguments: --bogus"),
    # predict
    ("predict-image-missing", lambda w, t: ["predict", str(w / "run" / "checkpoints" / "last.pt"), str(t / "no.png"),
                                            "--out", str(t / "pred")], "no.png: image not found"),
    ("predict-image-empty", lambda w, t: ["predict", str(w / "run" / "checkpoints" / "last.pt"),
                                          _write(t, "empty.png", ""), "--out", str(t / "pred")],
     "empty.png: not a readable image"),
]

if not torch.cuda.is_available():  # on a GPU machine the request is valid
    CASES.append(("evaluate-cuda-missing", lambda w, t: ["evaluate", _ckpt(w), "--device", "cuda"],
                  "--device: cuda requested but no GPU is available"))


def _ckpt(world) -> str:
    return str(world / "run" / "checkpoints" / "last.pt")


def _camvid_ckpt(world, tmp) -> str:
    """The tiny run's checkpoint, relabelled as a CamVid-ontology model."""
    from spigan.ontology import CAMVID_CLASSES

    def to_camvid(state):
        state["config"]["data"]["ontology"] = state["config"]["data"]["protocol"] = "camvid-11"
        state["classes"] = list(CAMVID_CLASSES)

    return str(tamper_checkpoint(world, tmp, to_camvid))


def _truncated_copy(world, tmp) -> str:
    data = (world / "run" / "checkpoints" / "last.pt").read_bytes()
    (tmp / "cut.pt").write_bytes(data[: len(data) // 2])
    return str(tmp / "cut.pt")


def _corrupt_png(tmp) -> str:
    (tmp / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    return str(tmp / "broken.png")


def _float_tiff(tmp) -> str:
    _to_float(tmp / "float.tif")
    return str(tmp / "float.tif")


def _copy_run(world, tmp, results: str | None = None) -> str:
    dst = tmp / "copy"
    shutil.copytree(world / "run", dst)
    if results is not None:
        (dst / "results.json").write_text(results)
    return str(dst)


def _edited_run(world, tmp, old: str, new: str) -> str:
    """A copy of the tiny run whose config.yaml a user edited."""
    dst = Path(_copy_run(world, tmp))
    text = (dst / "config.yaml").read_text()
    assert old in text
    (dst / "config.yaml").write_text(text.replace(old, new, 1))
    return str(dst)


def _folder_of_notes(tmp) -> str:
    (tmp / "notes").mkdir()
    (tmp / "notes" / "readme.txt").write_text("no images here")
    return str(tmp / "notes")


def _empty_run(tmp) -> str:
    (tmp / "run" / "checkpoints").mkdir(parents=True)
    return str(tmp / "run")


def _street_class(p):
    p.write_text("ontology: 16-class\nclasses: {street: 7}\n")


def _write(tmp, name, text):
    (tmp / name).write_text(text)
    return str(tmp / name)


def _pickle(tmp, name, obj):
    with open(tmp / name, "wb") as f:
        pickle.dump(obj, f)
    return str(tmp / name)


def _torch_save(tmp, name, obj):
    torch.save(obj, tmp / name)
    return str(tmp / name)


def _empty_camvid(tmp):
    (tmp / "empty" / "val").mkdir(parents=True)
    (tmp / "empty" / "valannot").mkdir()
    return tmp / "empty"


def _to_gray(p):
    p.write_bytes(cv2.imencode(".png", np.zeros((16, 32), np.uint8))[1].tobytes())


def _to_float(p):
    p.write_bytes(cv2.imencode(".tiff", np.zeros((16, 32, 3), np.float32))[1].tobytes())


def _to_int32(p):
    p.write_bytes(cv2.imencode(".tiff", np.zeros((16, 32), np.int32))[1].tobytes())


def _to_color(p):
    p.write_bytes(cv2.imencode(".png", np.zeros((16, 32, 3), np.uint8))[1].tobytes())


def _shrink(p):
    p.write_bytes(cv2.imencode(".png", np.zeros((8, 16), np.uint8))[1].tobytes())


def _id_200(p):
    p.write_bytes(cv2.imencode(".png", np.full((16, 32), 200, np.uint8))[1].tobytes())


def _depth_3ch(p):
    d = np.zeros((16, 32, 3), np.uint16)
    d[..., 0] = 100
    p.write_bytes(cv2.imencode(".png", d)[1].tobytes())


def _symlink_out(p):
    outside = p.parents[2] / "outside.png"
    shutil.copy(p, outside)
    p.unlink()
    p.symlink_to(outside)


def _broken(world, tmp, dataset, pattern, damage):
    root = copy_dataset(world, dataset, tmp)
    damage(first(root, pattern))
    split = "train" if dataset == "synthia" else "val"
    return ["data", "check", "--dataset", dataset, "--root", str(root), "--split", split, "--quiet"]


def snapshot(*folders) -> dict[str, str]:
    out = {}
    for folder in folders:
        for p in Path(folder).rglob("*"):
            if p.is_file() and not p.is_symlink():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("case, make_args, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(world, tmp_path, capsys, case, make_args, message):
    args = make_args(world, tmp_path)
    capsys.readouterr()
    before = snapshot(world, tmp_path)
    code = main(args)
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spigan: error: "), err
    # `data check` lists each bad file on stdout ("FILE: problem") and sums up on stderr.
    where = captured.out + err if args[:2] == ["data", "check"] else err
    assert message in where, captured
    assert "Traceback" not in err
    after = snapshot(world, tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing that existed was changed
    assert set(after) == set(before), set(after) - set(before)  # and nothing half-written was left
    assert not (tmp_path / "pwned").exists()
    if args[0] == "train" and "--resume" not in args and "--out" not in args:
        assert not Path("runs").exists() or not any(Path("runs").iterdir())


def test_there_are_at_least_60_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 60


def test_no_traceback_from_a_real_process(world, tmp_path):
    run = subprocess.run([sys.executable, "-m", "spigan.cli", "evaluate", str(tmp_path / "none.pt")],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == f"spigan: error: {tmp_path / 'none.pt'}: checkpoint not found"
    debug = subprocess.run([sys.executable, "-m", "spigan.cli", "--debug", "evaluate", str(tmp_path / "none.pt")],
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
