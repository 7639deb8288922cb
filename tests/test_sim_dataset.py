"""Cached splits of simulator frames: distinct streams, atomic cache writes, repair."""

import numpy as np
import pytest

from spigan.sim import dataset as ds


def test_splits_and_domains_use_distinct_streams():
    seeds = {ds.stream_seed(0, d, s) for d in ("sim", "photo") for s in ("train", "val", "test")}
    assert len(seeds) == 6
    train = ds.SimFrames("sim", "train", 3, 32, 64)
    val = ds.SimFrames("sim", "val", 3, 32, 64)
    assert all(train[i].rgb.tobytes() != val[j].rgb.tobytes() for i in range(3) for j in range(3))


def test_cache_is_used_and_written_atomically(tmp_path, monkeypatch):
    frames = ds.SimFrames("photo", "train", 2, 32, 64, cache_dir=tmp_path)
    first = frames[1]
    files = list(frames.folder.iterdir())
    assert [f.name for f in files] == ["000001.npz"]  # no temporaries left behind

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again although the frame is cached")

    monkeypatch.setattr(ds, "render_frame", no_render)
    again = ds.SimFrames("photo", "train", 2, 32, 64, cache_dir=tmp_path)[1]
    assert again.rgb.tobytes() == first.rgb.tobytes()
    assert again.depth.tobytes() == first.depth.tobytes()
    assert again.camera == first.camera


def test_interrupted_cache_write_leaves_no_file(tmp_path, monkeypatch):
    frames = ds.SimFrames("sim", "val", 1, 32, 64, cache_dir=tmp_path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ds.np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        frames[0]
    assert list(frames.folder.iterdir()) == []


def test_damaged_cache_file_is_rendered_again(tmp_path):
    frames = ds.SimFrames("sim", "val", 1, 32, 64, cache_dir=tmp_path)
    good = frames[0]
    (frames.folder / "000000.npz").write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="000000.npz"):
        again = frames[0]
    assert again.rgb.tobytes() == good.rgb.tobytes()


def test_parallel_rendering_writes_the_same_frames(tmp_path):
    serial = ds.SimFrames("sim", "train", 16, 24, 48, seed=3, cache_dir=tmp_path / "serial")
    serial.render_all(progress=False, workers=1)
    parallel = ds.SimFrames("sim", "train", 16, 24, 48, seed=3, cache_dir=tmp_path / "parallel")
    parallel.render_all(progress=False, workers=2)
    for i in range(16):
        a, b = serial[i], parallel[i]
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.labels, b.labels) and np.array_equal(a.depth, b.depth)
    assert len(list(parallel.folder.glob("*.npz"))) == 16


def test_knobs_are_part_of_the_cache_key(tmp_path):
    from spigan.sim import render_frame
    from spigan.sim.knobs import SimKnobs

    knobs = SimKnobs(camera=0.0, randomization=0.5)
    plain = ds.SimFrames("sim", "train", 2, 24, 48, cache_dir=tmp_path)
    tuned = ds.SimFrames("sim", "train", 2, 24, 48, cache_dir=tmp_path, knobs=knobs)
    assert plain.folder != tuned.folder
    frame = tuned[1]
    again = ds.SimFrames("sim", "train", 2, 24, 48, cache_dir=tmp_path, knobs=knobs)[1]  # read from the cache
    expected = render_frame(tuned.stream, 1, 24, 48, "sim", knobs)
    for f in (frame, again):
        assert f.rgb.tobytes() == expected.rgb.tobytes() and f.labels.tobytes() == expected.labels.tobytes()
        assert f.camera == expected.camera
    assert frame.rgb.tobytes() != plain[1].rgb.tobytes()
    # The photo renderer has no knobs: they neither change its frames nor its folder.
    assert ds.SimFrames("photo", "val", 1, 24, 48, cache_dir=tmp_path, knobs=knobs).folder == \
        ds.SimFrames("photo", "val", 1, 24, 48, cache_dir=tmp_path).folder


def test_the_render_memory_check_is_the_simulators_one_line(monkeypatch):
    """spigan.sim owns what a frame costs: `sim export`, `sim preview` and the data sources
    all ask it (1 KiB a pixel, plus 4 bytes a pixel for each picture a figure keeps)."""
    from spigan.errors import SpiganError
    from spigan.sim import check_render_memory

    monkeypatch.setattr("spigan.cpus.available_memory", lambda: 2**30)
    check_render_memory(1000, 1000, "a frame")  # 0.95 GiB
    with pytest.raises(SpiganError, match=r"^--size 1024x2048: rendering one frame needs about 2.0 GiB of memory; "
                                          r"1.0 GiB are available$"):
        check_render_memory(1024, 2048, "--size 1024x2048: rendering one frame")
    with pytest.raises(SpiganError, match=r"^the preview needs about 1.0 GiB"):
        check_render_memory(1000, 1000, "the preview", figure_panels=16)
