"""Each loss term against a value computed by hand."""

import math

import pytest
import torch

from spigan import losses


def test_lsgan_terms():
    d_real = torch.tensor([1.0, 0.5])
    d_fake = torch.tensor([0.0, 0.5, 1.0])
    # D: 0.5 * (mean((d_real-1)^2) + mean(d_fake^2)) = 0.5 * (0.125 + 1.25/3)
    assert losses.discriminator_loss(d_real, d_fake).item() == pytest.approx(0.5 * (0.125 + 1.25 / 3))
    # G: mean((d_fake-1)^2) = (1 + 0.25 + 0) / 3
    assert losses.adversarial_loss(d_fake).item() == pytest.approx(1.25 / 3)


def test_cross_entropy_ignores_void():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])).T.reshape(1, 3, 1, 2)
    labels = torch.tensor([[[0, 255]]])
    assert losses.cross_entropy(logits, labels).item() == pytest.approx(-math.log(0.5))
    labels = torch.tensor([[[0, 1]]])
    assert losses.cross_entropy(logits, labels).item() == pytest.approx(-(math.log(0.5) + math.log(0.8)) / 2)


def test_perceptual_loss_sums_layer_means():
    a = [torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]
    b = [torch.ones(1, 2, 2, 2), torch.full((1, 1, 1, 1), 3.0)]
    assert losses.perceptual_loss(a, b).item() == pytest.approx(1.0 + 3.0)
