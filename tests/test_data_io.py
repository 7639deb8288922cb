"""The label and depth decoders, fuzzed: random bytes and random arrays of random shapes and
dtypes either decode to checked arrays or raise our one-line SpiganError; nothing else."""

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from spigan.data import io
from spigan.errors import SpiganError

DECODERS = (io.read_index_png, io.read_synthia_label, io.read_synthia_depth, io.read_rgb)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def decode_or_refuse(decoder, path):
    try:
        out = decoder(path)
    except SpiganError as e:
        assert str(path) in str(e) and "\n" not in str(e)
        return None
    assert isinstance(out, np.ndarray)
    return out


@FUZZ
@given(data=st.binary(max_size=2048), prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]))
def test_random_bytes(tmp_path, data, prefix):
    path = tmp_path / "x.png"
    path.write_bytes(prefix + data)
    for decoder in DECODERS:
        decode_or_refuse(decoder, path)


images = st.one_of(
    arrays(st.sampled_from([np.uint8, np.uint16]), st.tuples(st.integers(1, 12), st.integers(1, 12))),
    arrays(st.sampled_from([np.uint8, np.uint16]),
           st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([1, 3, 4]))),
)


@FUZZ
@given(image=images)
def test_random_arrays_as_png(tmp_path, image):
    ok, buf = cv2.imencode(".png", image)
    assert ok
    path = tmp_path / "x.png"
    path.write_bytes(buf.tobytes())
    labels = decode_or_refuse(io.read_index_png, path)
    if labels is not None:
        assert labels.dtype == np.uint8 and labels.ndim == 2
    synthia = decode_or_refuse(io.read_synthia_label, path)
    if synthia is not None:
        assert synthia.dtype == np.uint16 and synthia.ndim == 2
        np.testing.assert_array_equal(synthia, image[..., 2])  # the red channel, in OpenCV's order
    depth = decode_or_refuse(io.read_synthia_depth, path)
    if depth is not None:
        assert depth.dtype == np.float32 and depth.ndim == 2 and np.isfinite(depth).all() and (depth >= 0).all()
    rgb = decode_or_refuse(io.read_rgb, path)
    if rgb is not None:
        assert rgb.dtype == np.uint8 and rgb.shape[2] == 3


@FUZZ
@given(data=st.binary(min_size=1, max_size=4096))
def test_truncated_real_png(tmp_path, data):
    """A valid 16-bit SYNTHIA label PNG cut anywhere, or with bytes overwritten."""
    label = np.zeros((8, 8, 3), np.uint16)
    label[..., 2] = 5
    good = cv2.imencode(".png", label)[1].tobytes()
    cut = len(data) % len(good)
    path = tmp_path / "x.png"
    path.write_bytes(good[:cut] + data[: len(good) - cut])
    decode_or_refuse(io.read_synthia_label, path)
    decode_or_refuse(io.read_synthia_depth, path)


def _png(tmp_path, name, image) -> str:
    path = tmp_path / name
    path.write_bytes(cv2.imencode(".png", image)[1].tobytes())
    return path


def test_photos_in_any_format_become_8_bit_rgb(tmp_path, monkeypatch):
    """Issue 24.3: alpha dropped, gray replicated, 16 bits scaled by 255/65535 and rounded,
    palette images expanded through their palette; by OpenCV, or by Pillow where OpenCV
    cannot decode a file."""
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    bgr = rgb[..., ::-1]
    deep = np.array([[0, 128, 129, 257, 32767, 32768, 65535]], np.uint16)
    want_deep = np.round(deep.astype(np.float64) * 255 / 65535).astype(np.uint8)
    assert want_deep.tolist() == [[0, 0, 1, 1, 127, 128, 255]]
    palette = Image.fromarray(np.array([[0, 1], [1, 2]], np.uint8), mode="P")
    palette.putpalette([10, 20, 30, 200, 100, 0, 5, 6, 7] + [0] * 759)
    palette.save(tmp_path / "palette.png")
    Image.fromarray(rgb).convert("LA").save(tmp_path / "gray_alpha.png")
    for decoder in ("opencv", "pillow"):
        if decoder == "pillow":
            monkeypatch.setattr(io.opencv(), "imdecode", lambda *a: None)
        assert np.array_equal(io.read_rgb(_png(tmp_path, "rgb.png", bgr)), rgb)
        assert np.array_equal(io.read_rgb(_png(tmp_path, "rgba.png", np.dstack([bgr, rgb[..., 0]]))), rgb)
        gray = io.read_rgb(_png(tmp_path, "gray.png", rgb[..., 0]))
        assert np.array_equal(gray, np.dstack([rgb[..., 0]] * 3))
        assert np.array_equal(io.read_rgb(_png(tmp_path, "deep.png", deep)), np.dstack([want_deep] * 3))
        if decoder == "opencv":  # Pillow reads 16-bit colour PNGs as 8 bits by itself
            deep_rgb = np.dstack([deep, deep[:, ::-1], deep])
            assert np.array_equal(io.read_rgb(_png(tmp_path, "deep_rgb.png", deep_rgb)),
                                  np.dstack([want_deep, want_deep[:, ::-1], want_deep]))
        assert io.read_rgb(tmp_path / "palette.png").tolist() == [[[10, 20, 30], [200, 100, 0]],
                                                                  [[200, 100, 0], [5, 6, 7]]]
        gray_alpha = io.read_rgb(tmp_path / "gray_alpha.png")
        assert gray_alpha.shape == (6, 5, 3) and (gray_alpha[..., 0] == gray_alpha[..., 2]).all()


def test_labels_stay_strict(tmp_path):
    """Label PNGs are not photos: a colour or 16-bit label is refused, never converted."""
    for name, image in (("rgb.png", np.zeros((4, 4, 3), np.uint8)), ("deep.png", np.zeros((4, 4), np.uint16))):
        with pytest.raises(SpiganError, match="expected an 8-bit single-channel label image"):
            io.read_index_png(_png(tmp_path, name, image))
