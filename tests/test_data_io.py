"""The label and depth decoders, fuzzed: random bytes and random arrays of random shapes and
dtypes either decode to checked arrays or raise our one-line SpiganError; nothing else."""

import cv2
import numpy as np
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
