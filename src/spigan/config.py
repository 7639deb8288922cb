"""Typed configuration: dataclasses holding the paper's values as defaults, YAML files and
`key=value` overrides merged strictly (an unknown key or a wrong type is an error naming
the key), and the resolved configuration written beside every run."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spigan.atomic import write_text_atomically
from spigan.depth import DEPTH_FAR, DEPTH_TARGETS
from spigan.errors import SpiganError
from spigan.loss_config import P_TRAINED_ON, PI_TYPES, LossConfig
from spigan.ontology import datasets_for, protocol_for
from spigan.variant import Variant, variant_of

GENERATOR_UPSAMPLING = ("transposed", "resize")  # model.generator_upsampling (models/generator.py)


@dataclass
class ModelConfig:
    """Network sizes (paper: all at their defaults) and ImageNet weights for the VGGs."""

    generator_width: int = 64
    generator_blocks: int = 9
    # Ours, not the paper's: G(x) = x + r(x), starting as the identity (models/generator.py).
    generator_skip: bool = False
    # G's two upsampling layers: "transposed" (the paper's fractionally-strided convolutions)
    # | "resize" (ours: nearest-neighbour x2, then a 3x3 convolution; the known cure for
    # checkerboard artefacts, Odena et al. 2016; same parameter count).
    generator_upsampling: str = "transposed"
    discriminator_width: int = 64
    discriminator_layers: int = 3
    fcn_width: int = 64  # VGG16 base width of T and P
    fcn_fc_dim: int = 4096  # channels of fc6 / fc7
    # 100: the reference FCN-8s (paper); 1: our compact variant for small CPU inputs (same
    # parameters, no 100-pixel padding; see models/fcn.py).
    fcn_input_padding: int = 100
    fcn_dropout: float = 0.5  # after fc6 and fc7, as in FCN-8s
    perceptual_width: int = 64  # VGG19 base width of φ
    # "" = documented random initialisation; "torchvision" = the published file via the
    # torch hub cache; or a path to that file.
    vgg16_weights: str = ""
    vgg19_weights: str = ""


@dataclass
class DataConfig:
    """Source (labelled, with depth) and target (unlabelled in training) data.

    Datasets: `sim` (the built-in simulator), `synthia`, `carla`, `carla_legacy` (sources),
    `cityscapes`, `vistas`, `camvid` (targets), `folder` (either; a source with depth/);
    real ones are read from `*_root`. As source, `sim` renders
    `sim_source_domain`, as target `sim_target_domain`; its splits are `*_frames` long.
    The `sim` renderer's knobs (`spigan.sim.knobs.SimKnobs`): `sim_camera` from 0 (SYNTHIA-
    RAND's random viewpoints) to 1 (a vehicle-mounted camera), `sim_randomization` the
    domain randomisation strength in [0, 1], `sim_degenerate` keeps frames that one object
    fills. The defaults are the settings that transferred best to real photos (CamVid,
    docs/RESULTS.md, "Simulator realism").
    `ontology` is the classes T predicts (16-class, 7-category, camvid-11); `protocol` how
    they are scored (16-class, 13-class or 7-category for a 16-class T; the ontology's own
    name otherwise).
    """

    source: str = "sim"
    source_root: str = ""
    target: str = "sim"
    target_root: str = ""
    ontology: str = "16-class"
    size: tuple[int, int] = (320, 640)  # images are resized (or rendered) to H x W
    crop: tuple[int, int] = (320, 320)  # random training crops; (0, 0) = whole images
    sim_source_domain: str = "sim"
    sim_target_domain: str = "photo"
    sim_seed: int = 0
    sim_camera: float = 1.0
    sim_randomization: float = 0.0
    sim_degenerate: bool = False
    source_frames: int = 9400
    target_frames: int = 2975
    val_frames: int = 500
    cache_dir: str = ""  # simulator frame cache; "" = $SPIGAN_CACHE or ~/.cache/spigan
    workers: int = 0
    protocol: str = "16-class"
    # Where predictions are scored: "native" = at the label's own resolution (the field's
    # standard: 1024x2048 for Cityscapes); "train" = labels resized (nearest) to `size`,
    # the paper's literal protocol ("images are resized to the evaluated size during
    # training and evaluation"). Named in every results file and report.
    eval_size: str = "native"


@dataclass
class TrainConfig:
    # spigan | no_pi | base | source_only | target_only (Table 2) | pretrain (T, P and φ on the
    # simulator's labels and depth: a warm start for the others) (spigan.variant)
    method: str = "spigan"
    iterations: int = 20000
    batch_size: int = 1
    lr: float = 2e-4  # Adam, all networks (paper §4.1)
    beta1: float = 0.5  # Adam betas: CycleGAN's, which the paper's G and D come from
    beta2: float = 0.999
    generator_steps: int = 5  # G steps per step of D, T and P (paper §4.1)
    # Ours, not the paper's (0 = off): for the first N iterations of an adapted run only G and
    # D learn; T and P stay fixed, their losses on G(x_s) still reaching G. A warm-started T
    # then first meets G(x_s) after G has learnt some of the target's look (issue 22).
    adaptation_warmup: int = 0
    seed: int = 0
    # A checkpoint, or a run folder (its early_stop.pt, else last.pt), whose weights start this
    # run (mmsegmentation's load_from): each of T, P, G, D, φ that both have, by name; not its
    # optimisers, data position, early stopping or iteration. φ is in the checkpoints of a
    # pretraining (train.method: pretrain) and of runs that took it from one; elsewhere it
    # comes from model.vgg19_weights. "" = off: networks as built.
    init_from: str = ""
    # Which of them to take, comma-separated (e.g. "task,perceptual"); "" = every one both have.
    init_networks: str = ""
    device: str = "auto"  # auto | cpu | cuda
    # torch intra-op threads; 0 = the CPUs other processes leave free, re-measured at every
    # logging interval (spigan.hardware.ThreadBudget); N > 0 = exactly N (bit-exact reruns).
    threads: int = 0
    # auto = bf16 on a GPU that supports it, fp32 on every CPU | fp32 | bf16 (autocast;
    # losses stay float32; checked against fp32 before training, spigan.bf16_check) | fp16
    # (GPU, with loss scaling) | fp64 (float64 throughout: slow; numbers that agree across
    # CPUs). See spigan.hardware.choose_precision.
    precision: str = "auto"
    channels_last: bool = False  # networks in channels_last memory format (docs/PERFORMANCE.md)
    # metrics.jsonl rows: each term's mean over every N iterations, and the last iteration;
    # iteration 1 is logged too (alone, closing no interval), so that any run has a curve.
    log_every: int = 10
    checkpoint_every: int = 500
    keep_checkpoints: int = 2  # also keep the newest K periodic checkpoints as iter_NNNNNNN.pt
    nonfinite: str = "stop"  # a NaN/inf loss: stop (naming term and iteration) | skip (that update)
    # On logging iterations, the norm of the gradient each weighted term of Eq. 1 sends into
    # G (metrics.jsonl, TensorBoard, the loss figure, the report). Same trajectory either way.
    log_generator_gradients: bool = True
    # TensorBoard image panels every N iterations and at the first and last (0 = never):
    # fixed source and target frames through G, P and T, beside their labels (spigan.monitor).
    image_every: int = 500
    # Target-validation mIoU in TensorBoard every N iterations (0 = never, the default). It
    # reads the target's validation labels, so it is a curve to look at, never used to
    # choose the model (early stopping chooses without target labels).
    validate_every: int = 0


@dataclass
class EarlyStoppingConfig:
    """Paper §4.1: stop when the discriminator loss is significantly and consistently below
    the generator's adversarial loss. Precisely: at every logging interval both losses are
    averaged over the interval; from `warmup` on they are smoothed by an exponential moving
    average (`smoothing`; earlier values are ignored, as the first iterations are far from
    any balance). The rule fires at the first check after which, for `patience` consecutive
    checks, smoothed D loss < (1 - `margin`) x smoothed G adversarial loss: with margin 0.5,
    D's loss is under half of G's. A relative margin does not depend on the scale of the
    losses (at the LSGAN equilibrium both are 0.25). The checkpoint of that iteration is
    the one evaluated by default (no target label is used to choose it); `halt: false`
    keeps training to `iterations` so the final model exists too."""

    enabled: bool = True
    smoothing: float = 0.8
    margin: float = 0.5
    patience: int = 5
    warmup: int = 100
    halt: bool = False


# Option ranges checked by Config.validate: (section, key, lowest allowed).
RANGES_AT_LEAST = [
    ("train", "iterations", 1), ("train", "batch_size", 1), ("train", "generator_steps", 1), ("train", "log_every", 1),
    ("train", "checkpoint_every", 1), ("train", "keep_checkpoints", 0), ("train", "seed", 0),
    ("train", "image_every", 0), ("train", "validate_every", 0), ("train", "adaptation_warmup", 0),
    ("loss", "adversarial", 0), ("loss", "task", 0), ("loss", "privileged", 0), ("loss", "perceptual", 0),
    ("loss", "privileged_normals", 0), ("loss", "privileged_boundaries", 0),
    ("model", "generator_width", 1), ("model", "generator_blocks", 0), ("model", "discriminator_width", 1),
    ("model", "discriminator_layers", 1), ("model", "fcn_width", 1), ("model", "fcn_fc_dim", 1),
    ("model", "perceptual_width", 1), ("data", "source_frames", 1), ("data", "target_frames", 1),
    ("data", "val_frames", 1), ("data", "workers", 0), ("data", "sim_seed", 0),
    ("early_stopping", "patience", 1), ("early_stopping", "warmup", 0),
]
# (section, key, low, high): low <= value < high.
RANGES_BELOW = [
    ("train", "beta1", 0, 1), ("train", "beta2", 0, 1), ("model", "fcn_dropout", 0, 1),
    ("early_stopping", "smoothing", 0, 1), ("early_stopping", "margin", float("-inf"), 1),
]
EVAL_SIZES = ("native", "train")


@dataclass
class Config:
    name: str = "spigan"
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)

    def variant(self) -> Variant:
        """What `train.method` means for this config (spigan.variant decides; this is the one
        place that reads the method's name); a SpiganError for an unknown method."""
        return variant_of(self.train.method, self.loss)

    def validate(self, roots: bool = True) -> "Config":
        """Checks every key; `roots=False` leaves out the real datasets' roots (a config can
        be shown before they are set; training needs them)."""
        self.variant()  # a known method
        for role in ("source", "target"):
            names = datasets_for(role)
            name = getattr(self.data, role)
            if name not in names:
                raise SpiganError(f"data.{role}: unknown dataset {name!r} (a {role} can be: {', '.join(names)})")
            if roots and name != "sim" and not getattr(self.data, f"{role}_root"):
                raise SpiganError(f"data.{role}_root: required for the {name} dataset")
        if self.train.precision not in ("auto", "fp32", "bf16", "fp16", "fp64"):
            raise SpiganError(f"train.precision: {self.train.precision!r} is not auto, fp32, bf16, fp16 or fp64")
        if self.train.threads < 0:
            raise SpiganError(f"train.threads: must be 0 (adapt to the machine's load) or a thread count, "
                              f"got {self.train.threads}")
        if self.train.nonfinite not in ("stop", "skip"):
            raise SpiganError(f"train.nonfinite: {self.train.nonfinite!r} is not stop or skip")
        if self.train.device not in ("auto", "cpu", "cuda"):
            raise SpiganError(f"train.device: {self.train.device!r} is not auto, cpu or cuda")
        for section, key, low in RANGES_AT_LEAST:
            value = getattr(getattr(self, section), key)
            if value < low:
                raise SpiganError(f"{section}.{key}: must be at least {low}, got {value}")
        for section, key, low, high in RANGES_BELOW:
            value = getattr(getattr(self, section), key)
            if not low <= value < high:
                raise SpiganError(f"{section}.{key}: must be in [{low}, {high}), got {value}")
        if not self.train.lr > 0:
            raise SpiganError(f"train.lr: must be positive, got {self.train.lr}")
        if not self.loss.max_depth > 1:
            raise SpiganError(f"loss.max_depth: must be more than 1 (metres), got {self.loss.max_depth}")
        if self.model.fcn_input_padding not in (1, 100):
            raise SpiganError(f"model.fcn_input_padding: must be 100 (FCN-8s) or 1 (compact), "
                              f"got {self.model.fcn_input_padding}")
        if self.loss.depth_target not in DEPTH_TARGETS:
            raise SpiganError(f"loss.depth_target: {self.loss.depth_target!r} is not one of {', '.join(DEPTH_TARGETS)}")
        if self.loss.depth_far not in DEPTH_FAR:
            raise SpiganError(f"loss.depth_far: {self.loss.depth_far!r} is not one of {', '.join(DEPTH_FAR)}")
        if self.model.generator_upsampling not in GENERATOR_UPSAMPLING:
            raise SpiganError(f"model.generator_upsampling: {self.model.generator_upsampling!r} is not one of "
                              f"{', '.join(GENERATOR_UPSAMPLING)}")
        for kind in self.loss.pi:
            if kind not in PI_TYPES:
                raise SpiganError(f"loss.pi: {kind!r} is not a kind of privileged information ({', '.join(PI_TYPES)})")
            if self.loss.pi.count(kind) > 1:
                raise SpiganError(f"loss.pi: {kind} is named twice")
        if self.loss.p_trained_on not in P_TRAINED_ON:
            raise SpiganError(f"loss.p_trained_on: {self.loss.p_trained_on!r} is not one of {', '.join(P_TRAINED_ON)}")
        if self.data.eval_size not in EVAL_SIZES:
            raise SpiganError(f"data.eval_size: {self.data.eval_size!r} is not one of {', '.join(EVAL_SIZES)}")
        for key in ("sim_camera", "sim_randomization"):
            if not 0.0 <= getattr(self.data, key) <= 1.0:
                raise SpiganError(f"data.{key}: must be in [0, 1], got {getattr(self.data, key)}")
        protocol_for(self.data.ontology, self.data.protocol)
        h, w = self.data.size
        ch, cw = self.data.crop
        if h < 8 or w < 8 or ch < 0 or cw < 0:
            raise SpiganError(f"data.size {h}x{w} / data.crop {ch}x{cw}: sizes must be at least 8x8 (crop 0x0 = none)")
        if h % 4 or w % 4 or (ch, cw) != (0, 0) and (ch % 4 or cw % 4 or ch > h or cw > w):
            raise SpiganError(f"data.size {h}x{w} / data.crop {ch}x{cw}: need multiples of 4, crop within size")
        return self


# ---------------------------------------------------------------------------------------
# Strict merge
# ---------------------------------------------------------------------------------------


def _coerce(value, annotation, key: str):
    origin = typing.get_origin(annotation)
    if origin is tuple and typing.get_args(annotation)[1:] == (Ellipsis,):  # a list of any length
        kind = typing.get_args(annotation)[0]
        if not isinstance(value, (list, tuple)):
            raise SpiganError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v, kind, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is tuple:
        kinds = typing.get_args(annotation)
        if not isinstance(value, (list, tuple)) or len(value) != len(kinds):
            raise SpiganError(f"{key}: expected a list of {len(kinds)} values, got {value!r}")
        return tuple(_coerce(v, k, f"{key}[{i}]") for i, (v, k) in enumerate(zip(value, kinds)))
    if annotation is bool:
        if not isinstance(value, bool):
            raise SpiganError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpiganError(f"{key}: expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpiganError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise SpiganError(f"{key}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported annotation {annotation}")


def merge(obj, updates: dict, prefix: str = ""):
    """A copy of dataclass `obj` with `updates` (nested dicts) applied strictly."""
    if not isinstance(updates, dict):
        raise SpiganError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {updates!r}")
    hints = typing.get_type_hints(type(obj))
    changes = {}
    for key, value in updates.items():
        name = f"{prefix}{key}"
        if key not in hints:
            known = ", ".join(hints)
            raise SpiganError(f"{name}: unknown key (known here: {known})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            changes[key] = merge(current, value, f"{name}.")
        else:
            changes[key] = _coerce(value, hints[key], name)
    return dataclasses.replace(obj, **changes)


def parse_overrides(items: list[str]) -> dict:
    """["train.lr=1e-3", "data.size=[64,128]"] -> nested dict; values parsed as YAML."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise SpiganError(f"override {item!r}: expected key=value")
        key, text = item.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(text) if text.strip() else ""
    return out


def _deep_update(base: dict, extra: dict) -> dict:
    for k, v in extra.items():
        base[k] = _deep_update(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


# The configs shipped inside the package (`configs/` at the repository root links here):
# `spigan train demo` names one from any folder.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"


def named_configs() -> list[str]:
    """The names of the shipped configs (`demo`, `paper`, ...)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def find_config(name: str | Path) -> Path:
    """A config file: `name` as a path if that file exists, else a shipped config named
    `name` (with or without `.yaml`)."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    if len(path.parts) == 1:
        shipped = CONFIG_DIR / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
        if shipped.is_file():
            return shipped
    if path.is_dir():
        raise SpiganError(f"{name}: is a folder, not a config file")
    raise SpiganError(f"{name}: cannot read config (no such file, and no shipped config of that name: "
                      f"{', '.join(named_configs())})")


def read_config_file(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """A config file as nested dicts, its `base:` (a file or a list of files, each resolved
    beside the including file, then among the shipped configs) merged in underneath."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as e:
        raise SpiganError(f"{path}: cannot read config ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise SpiganError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from e
    if not isinstance(data, dict):
        raise SpiganError(f"{path}: the config must be a mapping of sections")
    bases = data.pop("base", None)
    if bases is None:
        return data
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not bases or not all(isinstance(b, str) and b for b in bases):
        raise SpiganError(f"{path}: base: expected a config file name or a list of them, got {bases!r}")
    chain = _chain + (path.resolve(),)
    merged: dict = {}
    for base in bases:
        beside = path.parent / base
        if beside.is_file():
            base_path = beside
        elif (CONFIG_DIR / base).is_file() and len(Path(base).parts) == 1:
            base_path = CONFIG_DIR / base
        else:
            raise SpiganError(f"{path}: base: {base} not found (beside the file, or among the shipped configs: "
                              f"{', '.join(named_configs())})")
        if base_path.resolve() in chain:
            names = " -> ".join(p.name for p in chain + (base_path.resolve(),))
            raise SpiganError(f"{path}: base: {base} includes itself ({names})")
        _deep_update(merged, read_config_file(base_path, chain))
    return _deep_update(merged, data)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, roots: bool = True) -> Config:
    """Defaults <- YAML file (a path or a shipped config's name; its bases first) <-
    overrides, validated (the dataset roots too, unless `roots` is False)."""
    updates = read_config_file(find_config(path)) if path is not None else {}
    _deep_update(updates, parse_overrides(overrides or []))
    return merge(Config(), updates).validate(roots)


def to_dict(cfg: Config) -> dict:
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return plain(dataclasses.asdict(cfg))


def config_text(cfg: Config) -> str:
    """The resolved config as YAML (what a run saves as config.yaml)."""
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def save_config(cfg: Config, path: Path) -> None:
    write_text_atomically(path, config_text(cfg))


def config_from_dict(data: dict) -> Config:
    """A saved config (a run's config.yaml, a checkpoint's), which holds every key of its day.
    One without loss.depth_target predates that option and was trained with log depth, the
    only target then: it keeps it, though the default has since become metres. One without
    loss.pi predates the kinds of privileged information: depth alone, which is the default."""
    loss = data.get("loss")
    if isinstance(loss, dict) and "depth_target" not in loss:
        data = {**data, "loss": {**loss, "depth_target": "log"}}
    return merge(Config(), data).validate()


def with_method(cfg: Config, method: str, seed: int | None = None, name: str | None = None) -> Config:
    """A copy of `cfg` training `method` (and `seed`, `name` if given)."""
    train = dataclasses.replace(cfg.train, method=method, **({} if seed is None else {"seed": seed}))
    return dataclasses.replace(cfg, train=train, **({} if name is None else {"name": name}))
