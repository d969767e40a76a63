"""oiv4kv.Loader (issue 14 item 5): the native Loader's batches as dicts of
numpy arrays. Expected values come from other code paths: the example order
from Split.scan (ScanIterator), pixels from Split.decoded (the Decoder) cut
by hand with the reported transform, bad images from decoding every stored
image, annotations from Split[i]."""

import multiprocessing
import sys
import threading
import time

import numpy as np
import pytest

import oiv4kv

SMALL = dict(batch_size=8, size=(32, 32), threads=2)


def batches(loader, copy=True):
    """Every batch of `loader`, the image copied (the view lives until the
    next batch)."""
    out = []
    for b in loader:
        if copy:
            b = dict(b, image=b["image"].copy())
        out.append(b)
    return out


def valid_ids(bs):
    return [int(i) for b in bs for i, v in zip(b["image_id"], b["valid"]) if v]


@pytest.mark.parametrize("order", ["sequential", "shuffled", "block_shuffled"])
def test_batches_follow_the_scan_order(store, order):
    split = store.split("train")
    ids = split.ids
    checked = 0
    for shard in range(3):
        args = dict(order=order, seed=5, epoch=1, shard_index=shard, num_shards=3)
        scan = split.scan(batch_size=7, block_size=4, window=2, **args)
        expected = [int(ids[i]) for i in scan.indices]
        loader = oiv4kv.Loader(store, "train", block_size=4, window=2, **SMALL, **args)
        bs = batches(loader, copy=False)
        assert len(bs) == len(loader) == -(-len(expected) // 8)
        got = valid_ids(bs)
        assert got == expected
        assert [int(i) for b in bs for i, v in zip(b["index"], b["valid"]) if v] == \
            list(scan.indices)
        assert [b["batch_index"] for b in bs] == list(range(len(bs)))
        checked += len(got)
    assert checked == len(split)


def test_resume_from_every_batch_equals_the_rest(store):
    args = dict(SMALL, order="shuffled", seed=11, epoch=2, prefetch=1)
    loader = oiv4kv.Loader(store, "train", **args)
    full, states = [], [loader.state()]
    for b in loader:
        full.append((b["image_id"].copy(), b["image"].copy(), b["transform"]["flip"]))
        states.append(loader.state())
    assert len(full) == len(loader) == 9  # 70 examples, batch 8
    assert states[3].startswith("loader1:batch_size=8,remainder=pad,")
    checked = 0
    for k, state in enumerate(states):
        rest = oiv4kv.Loader(store, "train", **dict(args, epoch=0), state=state)  # epoch: state's
        assert rest.epoch == 2 and rest.delivered == k and len(rest) == 9
        got = [(b["image_id"].copy(), b["image"].copy(), b["transform"]["flip"]) for b in rest]
        assert len(got) == len(full) - k
        for (ids, img, flip), (want_ids, want_img, want_flip) in zip(got, full[k:]):
            np.testing.assert_array_equal(ids, want_ids)
            np.testing.assert_array_equal(img, want_img)
            np.testing.assert_array_equal(flip, want_flip)
            checked += 1
    assert checked == sum(range(1, 10))


def test_state_of_another_loader_is_refused(store):
    state = oiv4kv.Loader(store, "train", **SMALL).state()
    with pytest.raises(ValueError, match="batch_size"):
        oiv4kv.Loader(store, "train", **dict(SMALL, batch_size=4), state=state)
    with pytest.raises(ValueError, match="seed"):
        oiv4kv.Loader(store, "train", **SMALL, seed=1, state=state)
    with pytest.raises(ValueError):
        oiv4kv.Loader(store, "train", **SMALL, state="not a state")


@pytest.mark.parametrize("remainder", ["pad", "drop"])
def test_three_ranks_times_two_workers_cover_the_epoch(store, remainder):
    split = store.split("train")
    n, shards, bs = len(split), 6, 4
    seen, counts = [], []
    for shard in range(shards):
        loader = oiv4kv.Loader(store, "train", batch_size=bs, size=16, threads=1, seed=3,
                               shard_index=shard, num_shards=shards, remainder=remainder)
        got = batches(loader, copy=False)
        assert len(got) == len(loader)
        counts.append(len(got))
        seen += valid_ids(got)
        assert all(len(b["valid"]) == bs for b in got)
    assert len(set(counts)) == 1  # every rank and worker the same number of batches
    assert len(seen) == len(set(seen))  # nothing twice
    if remainder == "pad":
        assert counts[0] == -(-(-(-n // shards)) // bs)  # ceil(ceil(70 / 6) / 4) = 3
        assert sorted(seen) == sorted(int(i) for i in split.ids)
    else:
        assert counts[0] == (n // shards) // bs  # 2
        assert len(seen) == shards * counts[0] * bs


def test_image_is_a_writable_view_replaced_by_the_next_batch(store):
    for prefetch in (0, 2):
        loader = oiv4kv.Loader(store, "train", **SMALL, prefetch=prefetch, order="sequential")
        it = iter(loader)
        first = next(it)
        view = first["image"]
        kept = view.copy()
        assert view.shape == (8, 32, 32, 3) and view.dtype == np.uint8
        assert view.flags.writeable and not view.flags.owndata
        assert view.base is loader  # the view keeps the loader (its ring) alive
        np.testing.assert_array_equal(view, kept)
        # The ring holds prefetch + 1 batches: the slot is refilled after that many more.
        for _ in range(prefetch + 1):
            later = next(it)
        assert np.shares_memory(view, later["image"])
        np.testing.assert_array_equal(view, later["image"])
        assert not np.array_equal(view, kept)  # replaced ...
        assert not np.array_equal(later["image_id"], first["image_id"])  # ... by another batch
        # .copy() kept the first batch: it equals a fresh loader's first batch.
        again = next(iter(oiv4kv.Loader(store, "train", **SMALL, order="sequential")))
        np.testing.assert_array_equal(kept, again["image"])


def test_view_outlives_the_loader_object(store):
    loader = oiv4kv.Loader(store, "train", **SMALL, order="sequential")
    b = next(iter(loader))
    want = b["image"].copy()
    del loader, store
    np.testing.assert_array_equal(b["image"], want)  # the view holds the loader


def test_gil_is_released_while_waiting_for_a_batch(store_path):
    # Another thread counts (sleeping 0.1 ms between counts) while the main
    # thread waits in Loader.__next__. With a huge switch interval the main
    # thread gives the GIL up only when it blocks without it, so the counter
    # moves inside __next__ only if __next__ releases the GIL. Measured with
    # the GIL held: 0 or 1 per batch after the first (whose numpy import
    # reads files); released: 25 to 45 per batch.
    store = oiv4kv.Store(str(store_path))
    loader = oiv4kv.Loader(store, "train", batch_size=8, size=(224, 224), threads=1,
                           prefetch=0, config="original", bad_image="skip")
    counter, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0.0001)  # releases the GIL

    old = sys.getswitchinterval()
    thread = threading.Thread(target=count)
    moved = waited = 0
    try:
        sys.setswitchinterval(100.0)
        thread.start()
        it = iter(loader)
        next(it)  # the first call imports numpy's C API (file reads release the GIL)
        while True:
            before = counter[0]
            try:
                next(it)
            except StopIteration:
                break
            moved += counter[0] - before
            waited += 1
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)
    assert waited == len(loader) - 1 == 8
    assert moved >= 5 * waited, moved


def test_bad_images_error_names_the_image_and_skip_marks_and_counts(store):
    split = store.split("train")
    bad = set()
    for i in range(len(split)):
        try:
            split.decoded(i, "original")
        except oiv4kv.CorruptionError:
            bad.add(int(split.ids[i]))
    assert len(bad) == 1  # synth's truncated image
    (bad_id,) = bad
    args = dict(SMALL, order="sequential", config="original")
    loader = oiv4kv.Loader(store, "train", **args)
    errors = 0
    it = iter(loader)
    delivered = 0
    for _ in range(len(loader)):
        try:
            next(it)
            delivered += 1
        except oiv4kv.CorruptionError as e:
            assert f"original image train/{bad_id:016x}" in str(e)
            # Retrying does not skip it.
            with pytest.raises(oiv4kv.CorruptionError, match=f"train/{bad_id:016x}"):
                next(it)
            assert loader.delivered == delivered
            errors += 1
            break
    assert errors == 1

    loader = oiv4kv.Loader(store, "train", **args, bad_image="skip")
    skipped = 0
    for b in loader:
        for i in np.flatnonzero(~b["valid"]):
            if b["image_id"][i] == 0:
                continue  # padding at the end of the epoch
            assert int(b["image_id"][i]) == bad_id
            assert not b["image"][i].any()
            assert b["bobjects"]["offsets"][i] == b["bobjects"]["offsets"][i + 1]
            assert b["skipped"] == 1
            skipped += 1
    assert skipped == 1 and loader.skipped == 1
    # The same ids as the valid ones of the scan, less the bad one.
    every = valid_ids(batches(oiv4kv.Loader(store, "train", **args, bad_image="skip"), False))
    assert sorted(every + [bad_id]) == sorted(int(i) for i in split.ids)


def test_pixels_are_the_decoded_image_cropped_and_flipped_by_hand(store):
    # A center crop whose shorter side is already resize_shorter: no
    # resampling, so the output is the decoded pixels' crop.
    split = store.split("train")
    index_of = {int(i): k for k, i in enumerate(split.ids)}
    t = oiv4kv.TransformOptions("center_crop", width=96, height=80, resize_shorter=120,
                                flip_probability=0.5)
    loader = oiv4kv.Loader(store, "train", batch_size=8, transform=t, threads=2, seed=4)
    assert (t.kind, t.width, t.height) == ("center_crop", 96, 80)
    checked = flipped = 0
    for b in loader:
        tr = b["transform"]
        for i in np.flatnonzero(b["valid"]):
            w, h = tr["source_width"][i], tr["source_height"][i]
            if min(w, h) != 120:
                continue
            x, y = tr["crop_x"][i], tr["crop_y"][i]
            assert (tr["crop_width"][i], tr["crop_height"][i]) == (96, 80)
            assert (tr["content_width"][i], tr["content_height"][i]) == (96, 80)
            assert x == round((w - 96) / 2) and y == round((h - 80) / 2)
            full = split.decoded(index_of[int(b["image_id"][i])], "300k")
            assert full.shape == (h, w, 3)
            want = full[int(y):int(y) + 80, int(x):int(x) + 96]
            if tr["flip"][i]:
                want = want[:, ::-1]
                flipped += 1
            got = b["image"][i]
            # Exact, edges included (the crop's first and last columns once
            # differed by up to 16 levels: jpeg_crop_scanline upsamples the
            # chroma at the decoded columns' edges as at an image edge).
            np.testing.assert_array_equal(got, want)
            checked += 1
    assert checked == 13  # the train images of 300k whose shorter side is 120
    assert 0 < flipped < checked


def test_annotations_are_ragged_and_boxes_follow_the_transform(store):
    split = store.split("train")
    t = oiv4kv.TransformOptions("letterbox", width=64, height=48, jitter_min=0.7,
                                jitter_max=1.8, flip_probability=0.5)
    loader = oiv4kv.Loader(store, "train", batch_size=8, transform=t, threads=2, seed=2)
    checked = boxes = flipped = dropped = 0
    for b in loader:
        for key in ("objects", "objects_trainable", "bobjects"):
            off = b[key]["offsets"]
            assert len(off) == 9 and off[0] == 0 and off[-1] == len(b[key]["label"])
        tr = b["transform"]
        for i in np.flatnonzero(b["valid"]):
            ex = split[int(b["index"][i])]
            for key in ("objects", "objects_trainable"):
                lo, hi = b[key]["offsets"][i:i + 2]
                np.testing.assert_array_equal(b[key]["label"][lo:hi], ex[key]["label"])
                np.testing.assert_array_equal(b[key]["confidence"][lo:hi], ex[key]["confidence"])
            lo, hi = map(int, b["bobjects"]["offsets"][i:i + 2])
            np.testing.assert_array_equal(b["bobjects"]["label"][lo:hi], ex["bobjects"]["label"])
            # The reference: source box -> crop -> scale -> pad, clipped to the
            # content, mirrored when flipped, normalised to the 64 x 48 output.
            sx = tr["content_width"][i] / tr["crop_width"][i]
            sy = tr["content_height"][i] / tr["crop_height"][i]
            for k, (y0, x0, y1, x1) in enumerate(ex["bobjects"]["bbox"]):
                ys = [(v * tr["source_height"][i] - tr["crop_y"][i]) * sy + tr["pad_y"][i]
                      for v in (y0, y1)]
                xs = [(v * tr["source_width"][i] - tr["crop_x"][i]) * sx + tr["pad_x"][i]
                      for v in (x0, x1)]
                cy = np.clip(ys, tr["pad_y"][i], tr["pad_y"][i] + tr["content_height"][i])
                cx = np.clip(xs, tr["pad_x"][i], tr["pad_x"][i] + tr["content_width"][i])
                if tr["flip"][i]:
                    cx = 64 - cx[::-1]
                    flipped += 1
                want = [cy[0] / 48, cx[0] / 64, cy[1] / 48, cx[1] / 64]
                np.testing.assert_allclose(b["bobjects"]["bbox"][lo + k], want, atol=1e-5)
                area = (ys[1] - ys[0]) * (xs[1] - xs[0])
                if area > 0:
                    kept = (cy[1] - cy[0]) * (cx[1] - cx[0]) / area >= 0.25
                    assert b["bobjects"]["kept"][lo + k] == kept
                    dropped += not kept
                boxes += 1
            checked += 1
    assert checked == len(split) and boxes > 50 and flipped > 0 and dropped > 0


def test_float_chw_output_is_the_normalised_uint8_image(store):
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # on the 0..1 scale
    u8 = next(iter(oiv4kv.Loader(store, "train", **SMALL)))["image"].copy()
    for dtype, tol in (("float32", 1e-4), ("float16", 2e-3)):
        f = next(iter(oiv4kv.Loader(store, "train", **SMALL, layout="chw", dtype=dtype,
                                    mean=mean, std=std)))["image"]
        assert f.dtype == np.dtype(dtype) and f.shape == (8, 3, 32, 32)
        want = (u8.transpose(0, 3, 1, 2) / 255 - np.array(mean)[:, None, None]) / \
            np.array(std)[:, None, None]
        np.testing.assert_allclose(f.astype(np.float64), want, atol=tol * 4, rtol=tol)


def test_names_come_from_the_library_and_bad_ones_list_the_choices(store):
    assert oiv4kv.TRANSFORMS == ("random_resized_crop", "center_crop", "resize", "letterbox")
    for kw, choices in (("transform", "'random_resized_crop', 'center_crop', 'resize' or "
                                      "'letterbox'"),
                        ("order", "'sequential', 'shuffled' or 'block_shuffled'"),
                        ("remainder", "'pad' or 'drop'"),
                        ("bad_image", "'error' or 'skip'"),
                        ("layout", "'hwc' or 'chw'"),
                        ("dtype", "'uint8', 'float32' or 'float16'")):
        with pytest.raises(ValueError) as e:
            oiv4kv.Loader(store, "train", **{kw: "nope"})
        assert str(e.value) == f"{kw} must be {choices}, not 'nope'"
    with pytest.raises(ValueError, match="transform must be"):
        oiv4kv.TransformOptions("nope")
    with pytest.raises(TypeError, match="TransformOptions"):
        oiv4kv.Loader(store, "train", transform=3)
    with pytest.raises(ValueError, match="mean must have 1 or 3 values"):
        oiv4kv.Loader(store, "train", dtype="float32", mean=(1, 2))
    t = oiv4kv.TransformOptions()
    assert (t.kind, t.width, t.height, tuple(t.scale), t.flip_probability) == \
        ("random_resized_crop", 224, 224, (0.08, 1.0), 0.5)
    t.kind, t.jitter_max, t.pad_value = "letterbox", 1.5, 0
    assert (t.kind, t.jitter_max, t.pad_value) == ("letterbox", 1.5, 0)
    # Names: torchvision's defaults; only random_resized_crop flips.
    for name, flips in (("random_resized_crop", True), ("center_crop", False)):
        loader = oiv4kv.Loader(store, "train", batch_size=70, size=16, transform=name)
        b = next(iter(loader))
        assert b["transform"]["flip"].any() == flips, name
        assert b["image"].shape == (70, 16, 16, 3)


def _child_batches(loader, queue):
    try:
        queue.put([b["image_id"].tolist() for b in loader])
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        queue.put(repr(e))


def _child_new_loader(store, queue):
    _child_batches(oiv4kv.Loader(store, "train", **SMALL, seed=9), queue)


def test_works_in_a_process_forked_after_the_store_was_opened(store_path):
    store = oiv4kv.Store(str(store_path))
    want = [b["image_id"].tolist() for b in oiv4kv.Loader(store, "train", **SMALL, seed=9)]
    ctx = multiprocessing.get_context("fork")
    # A loader the parent had started (its threads do not exist in the child),
    # and one the child opens on the parent's store.
    started = oiv4kv.Loader(store, "train", **SMALL, seed=9)
    it = iter(started)
    assert next(it)["image_id"].tolist() == want[0]
    checked = 0
    for target, args, expected in ((_child_batches, (started,), want[1:]),
                                   (_child_new_loader, (store,), want)):
        queue = ctx.Queue()
        child = ctx.Process(target=target, args=(*args, queue))
        child.start()
        got = queue.get(timeout=120)
        child.join(timeout=60)
        assert child.exitcode == 0
        assert got == expected
        checked += 1
    assert checked == 2
    # The parent's loader goes on unharmed.
    assert [b["image_id"].tolist() for b in it] == want[1:]
