"""Shared test helpers."""

from torch import nn


def biases_cancelled_by_instance_norm(net: nn.Module) -> set[str]:
    """Biases of convolutions followed by InstanceNorm: their exact gradient is zero, so Adam
    moves them by rounding noise alone; comparisons across implementations leave them out."""
    names = set()
    for prefix, module in net.named_modules():
        if isinstance(module, nn.Sequential):
            children = list(module.named_children())
            for (name, layer), (_, following) in zip(children, children[1:]):
                if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(following, nn.InstanceNorm2d):
                    names.add(f"{prefix}.{name}.bias".lstrip("."))
    return names
