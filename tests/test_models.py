"""Networks: shapes, finiteness, the paper's exact parameter counts, ImageNet weight loading."""

import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from spigan.errors import SpiganError
from spigan.models import FCN8s, PatchDiscriminator, PerceptualHead, PerceptualVGG19, ResnetGenerator
from spigan.models.vgg import VGG16, vgg_features


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_parameter_counts():
    with torch.device("meta"):  # no memory, no time: only shapes
        assert count(ResnetGenerator()) == 11_378_179
        assert count(ResnetGenerator(skip=True)) == 11_378_179
        assert count(ResnetGenerator(upsampling="resize")) == 11_378_179  # same parameters, other layers
        assert count(PatchDiscriminator()) == 2_764_737
        assert count(FCN8s(16)) == 134_412_144
        assert count(FCN8s(1)) == 134_265_699
        assert count(FCN8s(16, input_padding=1)) == 134_412_144
        phi = PerceptualVGG19()
    convs = sum(count(m) for m in phi.features if isinstance(m, nn.Conv2d))
    assert convs == 20_024_384


@pytest.mark.parametrize("size", [(32, 32), (48, 96), (36, 52)])
def test_generator_and_discriminator_shapes(size):
    x = torch.rand(2, 3, *size) * 2 - 1
    for skip in (False, True):
        for upsampling in ("transposed", "resize"):
            y = ResnetGenerator(width=8, blocks=2, skip=skip, upsampling=upsampling)(x)
            assert y.shape == x.shape and torch.isfinite(y).all() and y.abs().max() <= 1
    d = PatchDiscriminator(width=8)(x)
    assert d.shape[:2] == (2, 1) and torch.isfinite(d).all()


def test_resize_upsampling_paints_no_checkerboard():
    """Why model.generator_upsampling=resize exists: G's first upsampling layer, all weights
    1, on a constant feature map. The paper's stride-2 transposed convolution gives its
    output pixels 1, 2 or 4 kernel taps by their parity (a checkerboard); nearest-neighbour
    x2 then a convolution gives every pixel the same."""
    def first_upsampling(upsampling):
        layers = list(ResnetGenerator(width=2, blocks=1, upsampling=upsampling).model)
        start = next(i for i, m in enumerate(layers) if isinstance(m, (nn.ConvTranspose2d, nn.Upsample)))
        end = next(i for i, m in enumerate(layers) if isinstance(m, nn.InstanceNorm2d) and i > start)
        up = nn.Sequential(*layers[start:end])
        for m in up.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        return up

    x = torch.ones(1, 8, 8, 8)  # (b, 4 x width, h/4, w/4)
    with torch.no_grad():
        transposed = first_upsampling("transposed")(x)[0, 0, 2:-2, 2:-2]
        resized = first_upsampling("resize")(x)[0, 0, 2:-2, 2:-2]
    assert transposed.shape == resized.shape == (12, 12)
    assert sorted(set(transposed.flatten().tolist())) == [8.0, 16.0, 32.0]  # 1, 2 or 4 taps x 8 channels
    assert set(resized.flatten().tolist()) == {72.0}  # 9 taps x 8 channels, everywhere


def test_skip_generator_starts_as_identity():
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(ResnetGenerator(width=8, blocks=1, skip=True)(x), x)


@pytest.mark.parametrize("padding", [100, 1])
@pytest.mark.parametrize("size", [(32, 64), (40, 56), (33, 47)])
def test_fcn_output_matches_input_size(padding, size):
    x = torch.rand(2, 3, *size) * 2 - 1
    for out in (16, 1):
        net = FCN8s(out, width=8, fc_dim=32, input_padding=padding)
        for m in (net.score_fr, net.score_pool3, net.score_pool4):  # non-zero scores, so NaNs would show
            nn.init.normal_(m.weight, std=0.1)
        y = net(x)
        assert y.shape == (2, out, *size) and torch.isfinite(y).all()


def test_perceptual_features_are_frozen_and_five():
    phi = PerceptualVGG19(width=8)
    feats = phi(torch.rand(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [8, 16, 32, 64, 64]
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
    assert not any(p.requires_grad for p in phi.parameters())
    phi.train()
    assert not phi.training


def torchvision_like_vgg16(width: int, fc_dim: int) -> dict:
    """A state dict laid out like torchvision's vgg16 (features.N, classifier.0/3/6)."""
    torch.manual_seed(0)
    state = {f"features.{k}": v.clone() for k, v in vgg_features(VGG16, width).state_dict().items()}
    c5 = 512 * width // 64
    state["classifier.0.weight"] = torch.randn(fc_dim, c5 * 49)
    state["classifier.0.bias"] = torch.randn(fc_dim)
    state["classifier.3.weight"] = torch.randn(fc_dim, fc_dim)
    state["classifier.3.bias"] = torch.randn(fc_dim)
    state["classifier.6.weight"] = torch.randn(1000, fc_dim)
    return state


def test_fcn_loads_torchvision_layout_weights(tmp_path):
    state = torchvision_like_vgg16(8, 32)
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    net = FCN8s(16, width=8, fc_dim=32, weights=str(path))
    assert net.pretrained
    torch.testing.assert_close(net.features[0].weight, state["features.0.weight"])
    torch.testing.assert_close(net.features[28].bias, state["features.28.bias"])
    torch.testing.assert_close(net.fc6.weight.flatten(1), state["classifier.0.weight"])
    torch.testing.assert_close(net.fc7.weight.flatten(1), state["classifier.3.weight"])


def test_weight_file_mismatch_and_absence_are_clear_errors(tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(torchvision_like_vgg16(8, 32), path)
    with pytest.raises(SpiganError, match="width 64"):
        FCN8s(16, width=16, fc_dim=32, weights=str(path))
    with pytest.raises(SpiganError, match="not found"):
        FCN8s(16, width=8, fc_dim=32, weights=str(tmp_path / "missing.pth"))


class _CreatesFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_weight_file_with_pickled_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"features.0.weight": _CreatesFile(str(marker))}, f)
    with pytest.raises(SpiganError, match="cannot load vgg16 weights"):
        FCN8s(16, width=8, fc_dim=32, weights=str(path))
    assert not marker.exists()


def test_imagenet_weights_loaded_are_named_in_the_log(tmp_path, tiny, capsys):
    """Issue 24.7: random initialisation was warned about; weights that loaded went unmentioned."""
    from spigan.cli import main
    from spigan.models.vgg import weight_file

    path = tmp_path / "vgg16.pth"
    torch.save(torchvision_like_vgg16(8, 16), path)  # the tiny config's widths
    _, overrides = tiny("train.method=source_only", "train.iterations=1", f"model.vgg16_weights={path}")
    (tmp_path / "tiny.yaml").write_text("name: tiny\n")
    assert main(["train", str(tmp_path / "tiny.yaml"), *overrides, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert f"spigan: task (VGG16) starts from ImageNet weights ({path})\n" in capsys.readouterr().err
    assert weight_file("torchvision", "vgg19") == str(Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth")


def test_generator_upsampling_is_validated_and_defaults_to_the_papers():
    from spigan.config import load_config

    assert load_config(None, []).model.generator_upsampling == "transposed"
    with pytest.raises(SpiganError, match="^model.generator_upsampling: 'bilinear' is not one of transposed, resize$"):
        load_config(None, ["model.generator_upsampling=bilinear"]).validate(roots=False)


def test_perceptual_head_scores_every_tap_upsampled_and_summed():
    """φ's segmentation head (pretraining): starts at zero like FCN's score layers; scores
    are the sum over φ's five taps of a 1x1 convolution, bilinearly upsampled to the image."""
    import torch.nn.functional as F

    phi = PerceptualVGG19(width=8)
    taps = phi(torch.rand(2, 3, 32, 48) * 2 - 1)
    head = PerceptualHead(5, width=8)
    assert torch.equal(head(taps), torch.zeros(2, 5, 32, 48))
    for score in head.scores:
        nn.init.normal_(score.weight)
        nn.init.normal_(score.bias)
    by_hand = torch.zeros(2, 5, 32, 48)
    for tap, score in zip(taps, head.scores):
        w = score.weight[:, :, 0, 0]  # (classes, channels)
        low = torch.einsum("kc,bchw->bkhw", w, tap) + score.bias[None, :, None, None]
        by_hand += F.interpolate(low, size=(32, 48), mode="bilinear", align_corners=False)
    torch.testing.assert_close(head(taps), by_hand, rtol=1e-5, atol=1e-5)
    assert [t.shape[1] for t in taps] == [s.in_channels for s in head.scores] == [8, 16, 32, 64, 64]


def test_phi_is_frozen_until_unfrozen_and_then_only_the_layers_it_runs_learn():
    phi = PerceptualVGG19(width=8)
    assert not any(p.requires_grad for p in phi.parameters())
    phi.unfreeze_()
    used = set(map(id, phi.used_layers().parameters()))
    assert all(p.requires_grad == (id(p) in used) for p in phi.parameters())
    assert len(list(phi.parameters())) - len(used) == 4  # conv5_3 and conv5_4: never run
    phi.train()
    assert not phi.training  # no layer of φ differs between modes; it stays in eval
