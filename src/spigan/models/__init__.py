"""The networks of SPIGAN (paper §4.1): G, D, T, P and the perceptual feature map φ (and
φ's segmentation head, for pretraining φ on the simulator).

Knows nothing about datasets, files of data, or configs."""

from spigan.models.discriminator import PatchDiscriminator
from spigan.models.fcn import FCN8s
from spigan.models.generator import ResnetGenerator
from spigan.models.vgg import PerceptualHead, PerceptualVGG19

__all__ = ["ResnetGenerator", "PatchDiscriminator", "FCN8s", "PerceptualVGG19", "PerceptualHead"]
