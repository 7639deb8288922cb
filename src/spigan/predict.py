"""`spigan predict`: segmentations (and, when the checkpoint has P, depth maps) of image files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from spigan.data.ontology import ONTOLOGIES, colorize
from spigan.errors import SpiganError
from spigan.train import load_checkpoint, task_net_from_checkpoint


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a clear error for missing, unreadable or non-colour files."""
    if not path.is_file():
        raise SpiganError(f"{path}: image not found")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise SpiganError(f"{path}: not a readable image (corrupt or unsupported format)")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        kind = "grayscale" if image.ndim == 2 else f"{image.shape[2]}-channel" if image.ndim == 3 else "odd"
        raise SpiganError(f"{path}: expected an 8-bit RGB image, got a {kind} {image.dtype} image")
    return np.ascontiguousarray(image[..., ::-1])


@torch.no_grad()
def predict_files(checkpoint: str, images: list[str], out: str) -> list[Path]:
    """Each image is resized to the run's training size, segmented, and the logits are
    upsampled back to the image's own size. Writes NAME_seg.png and NAME_depth.png."""
    from spigan.sim.preview import depth_to_rgb

    state = load_checkpoint(checkpoint)
    device = torch.device("cpu")
    task_net, cfg = task_net_from_checkpoint(state, device, "task")
    depth_net, _ = task_net_from_checkpoint(state, device, "privileged")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    h, w = cfg.data.size
    palette = ONTOLOGIES[cfg.data.ontology][1]
    for name in images:
        path = Path(name)
        rgb = read_rgb(path)
        x = torch.from_numpy(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)).permute(2, 0, 1)[None]
        x = x.float() / 127.5 - 1
        size = rgb.shape[:2]
        logits = F.interpolate(task_net(x), size=size, mode="bilinear", align_corners=False)
        seg = out_dir / f"{path.stem}_seg.png"
        cv2.imwrite(str(seg), colorize(logits.argmax(1)[0].numpy().astype(np.uint8), palette)[..., ::-1])
        written.append(seg)
        if depth_net is not None:
            encoded = F.interpolate(depth_net(x), size=size, mode="bilinear", align_corners=False)[0, 0]
            depth = np.exp(encoded.clamp(0, 1).numpy() * np.log(cfg.loss.max_depth))
            dpath = out_dir / f"{path.stem}_depth.png"
            cv2.imwrite(str(dpath), depth_to_rgb(depth)[..., ::-1])
            written.append(dpath)
    return written
