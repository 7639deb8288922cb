"""SPIGAN: Simulator Privileged Information GAN (Lee, Li, Gaidon, Ros; ICLR 2019)."""

__version__ = "0.1.0"
