"""SPIGAN: Simulator Privileged Information GAN (Lee, Li, Gaidon, Ros; ICLR 2019).

The public API (README, "Python API"):

    import spigan
    model = spigan.load("runs/demo/spigan/checkpoints/early_stop.pt", device="auto")
    labels = model.segment(rgb)   # (H, W) uint8 indices into model.classes
    depth = model.depth(rgb)      # (H, W) float32 metres, where the checkpoint has P

`load`, `Segmenter`, `Prediction` (spigan.api), `load_config` (spigan.config) and
`SpiganError` are imported on first use, so `import spigan` stays light (no torch).
"""

__version__ = "0.1.0"
__all__ = ["load", "Segmenter", "Prediction", "load_config", "SpiganError", "__version__"]

_LAZY = {"load": "spigan.api", "Segmenter": "spigan.api", "Prediction": "spigan.api",
         "load_config": "spigan.config", "SpiganError": "spigan.errors"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spigan' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + [n for n in _LAZY if n not in globals()])
