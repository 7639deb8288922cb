"""VGG backbones laid out exactly like torchvision's `features`, so that the ImageNet
state-dict files PyTorch publishes load by name; φ, the frozen VGG19 of the perceptual
loss; and the light head that makes φ a segmenter while it is pretrained on the simulator.

Images enter every VGG in the GAN convention, RGB in [-1, 1]; the first module converts
them to the ImageNet normalisation the published weights expect.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from spigan.errors import SpiganError

log = logging.getLogger(__name__)

# torchvision's configurations: numbers are conv widths at base width 64, "M" max-pooling.
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
VGG19 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")

# The files PyTorch publishes for these models (torchvision.models.VGG16_Weights.IMAGENET1K_V1 etc.).
WEIGHT_URLS = {
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageNetInput(nn.Module):
    """[-1, 1] RGB -> ImageNet-normalised RGB."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x + 1) / 2 - self.mean) / self.std


def vgg_features(config: tuple, width: int = 64, first_padding: int = 1, ceil_mode: bool = False) -> nn.Sequential:
    """torchvision's `make_layers` without batch norm, widths scaled by width / 64."""
    layers: list[nn.Module] = []
    c_in = 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=ceil_mode))
        else:
            c_out = v * width // 64
            layers += [nn.Conv2d(c_in, c_out, 3, padding=first_padding if not layers else 1), nn.ReLU(inplace=True)]
            c_in = c_out
    return nn.Sequential(*layers)


def init_vgg_(module: nn.Module) -> None:
    """torchvision's VGG initialisation, used when no ImageNet weights are given:
    Kaiming-normal convolutions (fan out, ReLU), zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def weight_file(source: str, arch: str) -> str:
    """The file `source` ("torchvision" or a path) names, for the log: the torch hub
    cache's copy of the published file, or the path."""
    if source == "torchvision":
        return str(Path(torch.hub.get_dir()) / "checkpoints" / WEIGHT_URLS[arch].rsplit("/", 1)[1])
    return str(Path(source).expanduser())


def read_state_dict(source: str, arch: str) -> dict[str, torch.Tensor]:
    """Reads a torchvision-format VGG state dict without unpickling code.

    Args:
        source: a file path, or "torchvision" for the published file through the torch hub
            cache (`$TORCH_HOME/hub/checkpoints`), downloading it if it is not there.
    """
    try:
        if source == "torchvision":
            return torch.hub.load_state_dict_from_url(WEIGHT_URLS[arch], map_location="cpu", weights_only=True,
                                                      progress=True)
        path = Path(source).expanduser()
        if not path.is_file():
            raise SpiganError(f"{path}: {arch} weight file not found")
        return torch.load(path, map_location="cpu", weights_only=True)
    except SpiganError:
        raise
    except Exception as e:  # unreadable, truncated, pickled code, no network...
        where = WEIGHT_URLS[arch] if source == "torchvision" else source
        raise SpiganError(f"{where}: cannot load {arch} weights ({type(e).__name__}: {str(e).splitlines()[0]})") from e


def copy_features_(features: nn.Sequential, state: dict[str, torch.Tensor], source: str) -> None:
    """Copies `features.N.weight/bias` of a torchvision VGG state dict into `features`."""
    own = features.state_dict()
    for key, value in own.items():
        theirs = state.get(f"features.{key}")
        if theirs is None:
            raise SpiganError(f"{source}: no 'features.{key}' in the weight file (not a torchvision VGG state dict?)")
        if theirs.shape != value.shape:
            raise SpiganError(f"{source}: 'features.{key}' has shape {tuple(theirs.shape)}, the model expects "
                              f"{tuple(value.shape)} (ImageNet weights need the paper's width 64)")
        own[key] = theirs
    features.load_state_dict(own)


class PerceptualVGG19(nn.Module):
    """φ: frozen VGG19 returning the activations (after ReLU) of conv1_2, conv2_2, conv3_2,
    conv4_2 and conv5_2, the layers of Chen & Koltun (2017) named in the paper §4.1.

    The whole `features` stack is kept (20,024,384 convolution parameters at width 64) so
    the published file loads as is; the forward pass stops after conv5_2.
    """

    TAPS = (3, 8, 13, 22, 31)  # indices of the ReLUs after conv1_2 ... conv5_2 in `features`

    def __init__(self, width: int = 64, weights: str = ""):
        super().__init__()
        self.input = ImageNetInput()
        self.features = vgg_features(VGG19, width)
        self.pretrained = bool(weights)
        self.weight_file = weight_file(weights, "vgg19") if weights else None  # named in the log
        if weights:
            copy_features_(self.features, read_state_dict(weights, "vgg19"), weights)
        else:
            init_vgg_(self.features)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "PerceptualVGG19":
        return super().train(False)  # frozen: always in inference mode (no layer differs)

    def used_layers(self) -> nn.Sequential:
        """The layers the forward pass runs, conv1_1 to conv5_2's ReLU; conv5_3 and conv5_4
        are kept only so that the published file loads."""
        return self.features[: self.TAPS[-1] + 1]

    def unfreeze_(self) -> "PerceptualVGG19":
        """Lets φ learn (only while it is pretrained, `train.method: pretrain`): the layers
        the forward pass runs require gradients; the two it never runs stay frozen, so no
        parameter waits for a gradient that cannot come (DistributedDataParallel)."""
        self.used_layers().requires_grad_(True)
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.input(x)
        taps = []
        for i, layer in enumerate(self.used_layers()):
            h = layer(h)
            if i in self.TAPS:
                taps.append(h)
        return taps


class PerceptualHead(nn.Module):
    """φ's segmentation head, used only to pretrain φ on the simulator's labels: a 1x1 score
    layer on each of φ's five tapped activations (conv1_2 ... conv5_2), each upsampled
    bilinearly to the image and summed (FCN's skip architecture, over the very layers the
    perceptual loss compares, so that every one of them learns from the labels). Score
    layers start at zero, as FCN's do.

    Args:
        classes: the classes to score.
        width: φ's VGG19 base width (its taps have width x (1, 2, 4, 8, 8) channels).
    """

    def __init__(self, classes: int, width: int = 64):
        super().__init__()
        channels = [c * width // 64 for c in (64, 128, 256, 512, 512)]
        self.scores = nn.ModuleList(nn.Conv2d(c, classes, 1) for c in channels)
        for score in self.scores:
            nn.init.zeros_(score.weight)
            nn.init.zeros_(score.bias)

    def forward(self, taps: list[torch.Tensor]) -> torch.Tensor:
        """φ's taps -> (b, classes, h, w) scores at the first tap's size (the image's)."""
        size = taps[0].shape[-2:]
        return sum(F.interpolate(score(tap), size=size, mode="bilinear", align_corners=False)
                   for score, tap in zip(self.scores, taps))
