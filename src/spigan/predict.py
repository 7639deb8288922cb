"""`spigan predict`: segmentations (and, when the checkpoint has P, depth maps) of image files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from spigan.checkpoint import (
    checkpoint_config,
    load_checkpoint,
    network_from_checkpoint,
)
from spigan.data import io
from spigan.data.transforms import network_input
from spigan.depth import decode_depth
from spigan.errors import SpiganError
from spigan.figures import depth_to_rgb
from spigan.inference import segment_logits
from spigan.ontology import ONTOLOGIES, colorize


@torch.no_grad()
def predict_files(checkpoint: str, images: list[str], out: str) -> list[Path]:
    """Each image is resized to the run's training size, segmented, and the logits are
    upsampled back to the image's own size. Writes NAME_seg.png and NAME_depth.png."""
    for name in images:  # a missing file costs a second, not the frames before it
        if Path(name).is_dir():
            raise SpiganError(f"{name}: is a folder, not an image file")
        if not Path(name).is_file():
            raise SpiganError(f"{name}: image not found")
    state = load_checkpoint(checkpoint)
    cfg = checkpoint_config(state)
    task_net = network_from_checkpoint(state, "task")
    depth_net = network_from_checkpoint(state, "privileged")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    palette = ONTOLOGIES[cfg.data.ontology][1]
    for name in images:
        path = Path(name)
        rgb = io.read_rgb(path)
        x = network_input(rgb, cfg.data.size)
        size = rgb.shape[:2]
        classes = segment_logits(task_net(x), size)[0]
        seg = out_dir / f"{path.stem}_seg.png"
        io.write_png_atomic(seg, colorize(classes.numpy().astype(np.uint8), palette)[..., ::-1])
        written.append(seg)
        if depth_net is not None:
            encoded = F.interpolate(depth_net(x), size=size, mode="bilinear", align_corners=False)[0, 0]
            depth = decode_depth(encoded.numpy(), cfg.loss.max_depth, cfg.loss.depth_target)
            dpath = out_dir / f"{path.stem}_depth.png"
            io.write_png_atomic(dpath, depth_to_rgb(depth)[..., ::-1])
            written.append(dpath)
    return written
