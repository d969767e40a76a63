"""Arrays returned by oiv4kv view the store's memory: no copy of image bytes
or (aligned) records, read-only, alive as long as the arrays are."""

import gc

import numpy as np

import oiv4kv


def sst_mappings(store_path):
    """[(start, end)] of this process's mappings of the store's .sst files."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith(str(store_path)) and \
                    fields[5].endswith(".sst"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    return ranges


def inside(ranges, address, size):
    return any(start <= address and address + size <= end for start, end in ranges)


def test_image_bytes_are_a_view_of_the_mmapped_table(store, store_path):
    split = store.split("train")
    for config in ("original", "300k"):
        for i in range(len(split)):
            image = split.image(i, config)
            assert image.dtype == np.uint8 and image.ndim == 1
            assert not image.flags.writeable and not image.flags.owndata
            assert inside(sst_mappings(store_path), image.ctypes.data, image.nbytes), (config, i)
            # A second read returns the same memory, not a new copy.
            assert split.image(i, config).ctypes.data == image.ctypes.data
            assert memoryview(image).nbytes == image.nbytes


def test_annotation_arrays_view_one_record(store, store_path):
    split = store.split("train")
    in_table = 0
    for i in range(len(split)):
        ex = split[i]
        arrays = [ex[k][name] for k in ("objects", "objects_trainable", "bobjects")
                  for name in ex[k]]
        non_empty = [a for a in arrays if a.size]
        if not non_empty:
            continue
        for a in arrays:
            assert not a.flags.writeable and not a.flags.owndata
        # Every array of an example has the same owner (the pinned record)...
        assert len({id(a.base) for a in non_empty}) == 1
        # ...and lies within one small record, not in separate allocations.
        lo = min(a.ctypes.data for a in non_empty)
        hi = max(a.ctypes.data + a.nbytes for a in non_empty)
        assert hi - lo < 64 * 1024
        # A record at an 8-aligned address is viewed in place in the table;
        # a misaligned one has one aligned copy (FlatBuffers needs alignment).
        in_table += inside(sst_mappings(store_path), lo, hi - lo)
    assert in_table > 0


def test_arrays_outlive_the_store_object(store_path):
    store = oiv4kv.Store(str(store_path))
    split = store.split("validation")
    want_bytes = bytes(split.image(0, "300k"))
    want_boxes = split[0]["bobjects"]["bbox"].copy()
    image = split.image(0, "300k")
    boxes = split[0]["bobjects"]["bbox"]
    del store, split
    gc.collect()
    # The arrays hold the record and the store open themselves.
    assert bytes(image) == want_bytes
    np.testing.assert_array_equal(boxes, want_boxes)


def test_decoded_pixels_own_their_buffer(store):
    pixels = store.split("train").decoded(0, "300k")
    assert pixels.flags.writeable and pixels.flags.c_contiguous
    pixels[0, 0, 0] = 1  # the caller's to change
    ids = store.split("train").ids
    assert not ids.flags.writeable
