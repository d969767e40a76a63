"""oiv4kv.decode, Split.decoded and Split.scan."""

import io
import threading

import numpy as np
import pytest
from PIL import Image

import oiv4kv


def pil_rgb(data):
    """A second decoder: PIL (libjpeg's own API, accurate IDCT, fancy
    upsampling, as TurboJPEG's default)."""
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))


def test_decode_matches_pil_on_300k_images(store):
    split = store.split("train")
    for i in range(len(split)):
        encoded = split.image(i, "300k")  # 300k: baseline RGB JPEGs the converter wrote
        pixels = oiv4kv.decode(encoded)
        assert pixels.shape == split.image_size(i, "300k") + (3,)
        np.testing.assert_array_equal(pixels, pil_rgb(encoded))
        np.testing.assert_array_equal(split.decoded(i, "300k"), pixels)


def test_decode_options(store):
    encoded = store.split("train").image(0, "300k")
    rgb = oiv4kv.decode(encoded)
    bgr = oiv4kv.decode(bytes(encoded), oiv4kv.DecodeOptions(pixel_format="bgr"))
    np.testing.assert_array_equal(bgr, rgb[:, :, ::-1])
    gray = oiv4kv.decode(memoryview(encoded), oiv4kv.DecodeOptions(pixel_format="gray"))
    assert gray.shape == rgb.shape[:2]
    h, w = rgb.shape[:2]
    small = oiv4kv.decode(encoded, oiv4kv.DecodeOptions(min_width=w // 4, min_height=h // 4))
    # The smallest of 1/8, 1/4, 1/2, 1 that covers a quarter: 1/4, ceil'ed.
    assert small.shape == (-(-h // 4), -(-w // 4), 3)
    with pytest.raises(oiv4kv.InvalidArgumentError, match="pixels"):
        oiv4kv.decode(encoded, oiv4kv.DecodeOptions(max_pixels=h * w - 1))
    with pytest.raises(ValueError, match="pixel_format"):
        oiv4kv.DecodeOptions(pixel_format="rgba")


def test_damaged_input(store):
    encoded = bytes(store.split("train").image(0, "300k"))
    with pytest.raises(oiv4kv.InvalidArgumentError):
        oiv4kv.decode(b"<html>not an image</html>")
    cut = encoded[: len(encoded) * 2 // 3]
    with pytest.raises(oiv4kv.CorruptionError, match="Premature end"):
        oiv4kv.decode(cut)
    with pytest.warns(RuntimeWarning, match="Premature end"):
        partial = oiv4kv.decode(cut, oiv4kv.DecodeOptions(truncated="warn"))
    assert partial.shape == oiv4kv.decode(encoded).shape
    with pytest.raises((BufferError, ValueError), match="contiguous"):
        oiv4kv.decode(np.frombuffer(encoded, np.uint8)[::2])  # not contiguous


def test_threads_decode_concurrently_and_agree(store):
    split = store.split("train")
    want = [split.decoded(i, "300k") for i in range(len(split))]
    errors = []

    def work():
        try:
            for i in range(len(split)):
                if not np.array_equal(split.decoded(i, "300k"), want[i]):
                    errors.append(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def filenames(scan):
    return [ex["image/filename"] for ex in scan]


def test_sequential_scan_is_key_order(store):
    split = store.split("train")
    assert filenames(split.scan(order="sequential", batch_size=7)) == \
        [split[i]["image/filename"] for i in range(len(split))]


@pytest.mark.parametrize("order", ["shuffled", "block_shuffled"])
def test_shards_cover_each_epoch_once(store, order):
    split = store.split("train")
    everything = sorted(split[i]["image/filename"] for i in range(len(split)))
    orders = []
    for epoch in (0, 1):
        shards = [filenames(split.scan(order=order, seed=3, epoch=epoch, shard_index=k,
                                       num_shards=3, batch_size=5, block_size=4, window=2))
                  for k in range(3)]
        assert sorted(sum(shards, [])) == everything
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
        orders.append(sum(shards, []))
    assert orders[0] != orders[1]  # a new permutation each epoch
    again = filenames(split.scan(order=order, seed=3, epoch=0, shard_index=0, num_shards=3,
                                 batch_size=5, block_size=4, window=2))
    assert again == orders[0][: len(again)]


@pytest.mark.parametrize("prefetch", [0, 2])
def test_resume_from_any_state(store, prefetch):
    split = store.split("train")
    args = dict(order="shuffled", seed=11, epoch=2, batch_size=6, prefetch_batches=prefetch)
    full = filenames(split.scan(**args))
    for stop in (0, 1, 5, 6, 7, len(full) - 1, len(full)):
        scan = split.scan(**args)
        head = [next(scan)["image/filename"] for _ in range(stop)]
        state = scan.state()
        assert state == (f"scan2:split=train,examples={len(split)},order=shuffled,seed=11,"
                         f"block_size=256,window=16,shard=0/1,epoch=2,offset={stop}")
        del scan
        rest = filenames(split.scan(**dict(args, epoch=0), state=state))  # epoch from state
        assert head + rest == full, stop


def test_state_of_another_scan_is_refused(store):
    split = store.split("train")
    args = dict(order="shuffled", seed=11, shard_index=1, num_shards=2, batch_size=4)
    scan = split.scan(**args)
    next(scan)
    state = scan.state()
    assert len(filenames(split.scan(**args, state=state))) == len(scan) - 1
    changes = {"seed": (12, "seed is 11 in the state but 12 here"),
               "order": ("sequential", "order is shuffled in the state but sequential here"),
               "shard_index": (0, "shard_index is 1 in the state but 0 here"),
               "num_shards": (3, "num_shards is 2 in the state but 3 here"),
               "block_size": (8, "block_size is 256 in the state but 8 here")}
    checked = 0
    for name, (value, message) in changes.items():
        with pytest.raises(oiv4kv.InvalidArgumentError, match=message):
            split.scan(**dict(args, **{name: value}), state=state)
        checked += 1
    assert checked == 5
    with pytest.raises(oiv4kv.InvalidArgumentError, match="split is train in the state but "
                                                          "validation here"):
        store.split("validation").scan(**args, state=state)


def test_scan_with_images(store):
    split = store.split("validation")
    index_of = {split[i]["image/filename"]: i for i in range(len(split))}
    for ex in split.scan(seed=1, config="300k", decode=True, batch_size=3):
        np.testing.assert_array_equal(ex["image"], split.decoded(index_of[ex["image/filename"]],
                                                                 "300k"))
    for ex in split.scan(seed=1, config="original"):
        assert bytes(ex["image"]) == bytes(split.image(index_of[ex["image/filename"]], "original"))
    scan = split.scan(seed=1, config="300k", decode=oiv4kv.DecodeOptions(pixel_format="gray"))
    assert next(scan)["image"].ndim == 2


def test_scan_arguments_are_checked(store):
    split = store.split("train")
    with pytest.raises(ValueError, match="order"):
        split.scan(order="random")
    with pytest.raises(oiv4kv.InvalidArgumentError, match="version-1 state"):
        split.scan(state="scan1:0:3")
    with pytest.raises(oiv4kv.InvalidArgumentError, match="past the end"):
        split.scan(state="scan2:epoch=0,offset=99999")
    with pytest.raises(oiv4kv.InvalidArgumentError):
        split.scan(state="garbage")
    with pytest.raises(oiv4kv.InvalidArgumentError):
        split.scan(shard_index=3, num_shards=3)
    with pytest.raises(ValueError, match="decode needs a config"):
        split.scan(decode=True)
