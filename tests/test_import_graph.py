"""The package's shape: imports point one way, down the layers below; no circle (imports
under `if TYPE_CHECKING:` count too); the loop stays small; `train.method` is read in one
module."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spigan"

# Every module of the package and its layer: a module may import only from lower layers or
# its own. Adding a module means placing it here, which is the point.
LAYERS = {
    0: ["errors", "cpus", "ontology", "loss_config", "variant", "networks", "atomic", "depth", "sim.geometry",
        "sim.table", "sim.casting", "sim.color", "sim.textures", "sim.knobs", "data"],
    1: ["config", "hardware", "losses", "evaluate", "inference", "models.vgg", "models.generator",
        "models.discriminator", "sim.scene", "sim.environment", "sim.draws",
        "data.io", "data.normals", "data.boundaries"],
    2: ["models.fcn", "sim.hits", "sim.materials", "sim.randomize", "sim.materials_photo", "sim.lighting", "sim.render_sim",
        "sim.render_photo", "sim.render", "data.real", "data.transforms",
        "results", "resume"],
    3: ["models", "sim", "objective", "data.check"],
    4: ["sim.dataset", "build", "distributed", "early_stopping", "metrics_log", "reference"],
    5: ["data.datasets", "data.export", "checkpoint", "bf16_check"],
    6: ["sources", "api", "deploy"],
    7: ["scoring", "figures", "predict", "monitor"],
    8: ["train", "report"],
    9: ["ablate", "demo"],
    10: ["cli"],
}
LAYER = {m: k for k, mods in LAYERS.items() for m in mods}
PACKAGES = {"models", "sim", "data"}  # their __init__ modules are listed under the package name


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found.pop("", None)  # spigan/__init__.py: the public API, allowed to import anything
    return found


def _all_nodes(tree: ast.AST):
    """Every node, function bodies and `if TYPE_CHECKING:` blocks included: an import for
    type checkers only is still a dependency, and a circle through one is still a circle."""
    return ast.walk(tree)


def imports_of(path: Path, name: str) -> set[str]:
    """Every spigan module `path` imports, at any depth of the file (function-level too)."""
    out = set()
    for node in _all_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("spigan"):
            base = node.module[len("spigan."):] if node.module != "spigan" else ""
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                out.add(full if full in LAYER else base)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("spigan."):
                    out.add(alias.name[len("spigan."):])
    out.discard("")
    out.discard(name)
    return out


def graph() -> dict[str, set[str]]:
    return {name: imports_of(path, name) for name, path in modules().items()}


def test_every_module_has_a_layer():
    assert set(modules()) == set(LAYER), "place new modules in LAYERS (and remove gone ones)"


def test_imports_point_down():
    upward = [f"{a} (layer {LAYER[a]}) imports {b} (layer {LAYER[b]})"
              for a, targets in graph().items() for b in targets if LAYER[b] > LAYER[a]]
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    g = graph()
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in g.get(node, ()):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join(trail + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in g:
        if node not in state:
            visit(node, [])


def test_sim_stands_alone_and_models_know_no_data():
    g = graph()
    for name, targets in g.items():
        if name.startswith("sim"):
            assert all(t.startswith("sim") or t in ("ontology", "atomic", "errors", "cpus") for t in targets), (name, targets)
        if name.startswith("models") or name == "losses":
            assert all(t.startswith("models") or t in ("errors", "depth") for t in targets), (name, targets)


def test_data_takes_arguments_not_the_config():
    """spigan.data takes explicit arguments (sizes, roots, ontology, frame counts, keys):
    no module under it imports the config or the variant; datasets are built from a config
    in spigan.sources alone (issue 23)."""
    data = {name: targets for name, targets in graph().items() if name == "data" or name.startswith("data.")}
    assert len(data) > 5
    for name, targets in data.items():
        assert not targets & {"config", "loss_config", "variant", "resume", "sources"}, (name, targets)


def reached_from(name: str) -> set[str]:
    """Every module importing `name` imports, directly or not (function-level imports too)."""
    g, seen, todo = graph(), set(), [name]
    while todo:
        for nxt in g.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_loading_a_model_reaches_no_simulator_objective_or_losses():
    """`spigan.load` renders nothing and computes no loss: api imports, at any depth, no
    module of the simulator, nor the objective or the losses (issue 23; tests/test_api.py
    checks the same of a running interpreter)."""
    reached = reached_from("api")
    assert {"checkpoint", "inference", "data.transforms"} <= reached
    assert not {m for m in reached if m == "sim" or m.startswith("sim.") or m in ("objective", "losses")}, reached


def reads_train_method(path: Path) -> bool:
    """Whether the file reads `<anything>.train.method`."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "method" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "train" and isinstance(node.ctx, ast.Load):
            return True
    return False


def test_the_loop_is_small_and_the_method_is_read_in_one_module():
    """`Config.variant` reads `train.method` and hands it to spigan.variant, which gives it
    its meaning; everything else asks the variant."""
    assert len((PACKAGE / "train.py").read_text().splitlines()) < 300
    readers = sorted(name for name, path in modules().items() if reads_train_method(path))
    assert readers == ["config"], readers


# The distribution that provides each third-party module the package imports.
DISTRIBUTIONS = {"numpy": "numpy", "torch": "torch", "yaml": "pyyaml", "tqdm": "tqdm", "matplotlib": "matplotlib",
                 "cv2": "opencv-python-headless", "PIL": "pillow", "onnx": "onnx"}


def test_every_third_party_import_is_a_declared_dependency():
    """Issue 24.7: data.io imported Pillow, which pyproject.toml did not declare."""
    import re
    import sys

    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    declared = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}
    imported = set()
    for path in modules().values():
        for node in _all_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"spigan", "__future__"}
    assert third_party <= set(DISTRIBUTIONS), f"unknown imports (add them here): {third_party - set(DISTRIBUTIONS)}"
    assert {DISTRIBUTIONS[m] for m in third_party} <= declared
