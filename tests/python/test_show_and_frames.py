"""oiv4kv.show_examples, to_pandas and Split.stats against the records read
back one by one (split[i]), the vocabularies' names and pixels decoded
directly; a subset is a stand-in object with .split and .indices."""

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import oiv4kv

# Stored confidence is int(Confidence * 10); SPEC: positive when >= 0.5.
POSITIVE = 5


def with_boxes(split, limit):
    """Indices of the first `limit` examples that have at least one box."""
    found = [i for i in range(len(split)) if len(split[i]["bobjects"]["label"]) > 0]
    assert len(found) >= limit
    return found[:limit]


def subset_of(split, indices):
    return SimpleNamespace(split=split, indices=np.asarray(indices, dtype=np.uint64))


def positive_names(store, ex):
    names = store.vocabulary("all").names
    objects = ex["objects"]
    return [names[int(l)] for l, c in zip(objects["label"], objects["confidence"])
            if int(c) >= POSITIVE]


def rectangles(ax):
    from matplotlib.patches import Rectangle
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_show_examples_draws_each_box_where_the_record_puts_it(store):
    train = store.split("train")
    chosen = with_boxes(train, 4)
    fig = oiv4kv.show_examples(subset_of(train, chosen), n=4)
    box_names = store.vocabulary("boxable").names
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 4
    boxes_checked = 0
    for ax, index in zip(axes, chosen):
        ex = train[index]
        # The smallest config of this store (original and 300k) is 300k.
        height, width = train.decoded(index, "300k").shape[:2]
        assert ax.get_title() == f"{int(train.ids[index]):016x}"
        rects = rectangles(ax)
        bboxes = ex["bobjects"]["bbox"]
        assert len(rects) == len(bboxes)
        for rect, (ymin, xmin, ymax, xmax) in zip(rects, bboxes.tolist()):
            assert rect.get_x() == pytest.approx(xmin * width)
            assert rect.get_y() == pytest.approx(ymin * height)
            assert rect.get_width() == pytest.approx((xmax - xmin) * width)
            assert rect.get_height() == pytest.approx((ymax - ymin) * height)
            boxes_checked += 1
        assert [t.get_text() for t in ax.texts] == \
            [box_names[int(l)] for l in ex["bobjects"]["label"]]
        assert ax.get_xlabel() == ", ".join(positive_names(store, ex))
        # Same class, same colour; the pixels shown are the decoded image.
        colours = {}
        for rect, label in zip(rects, ex["bobjects"]["label"].tolist()):
            assert colours.setdefault(label, rect.get_edgecolor()) == rect.get_edgecolor()
        assert np.array_equal(np.asarray(ax.images[0].get_array()), train.decoded(index, "300k"))
    assert boxes_checked == sum(len(train[i]["bobjects"]["label"]) for i in chosen)
    assert boxes_checked > 0


def test_show_examples_honours_n_grid_and_seed(store):
    train = store.split("train")
    ids = {f"{int(i):016x}" for i in train.ids}

    def titles(fig):
        return [ax.get_title() for ax in fig.axes if ax.images]

    fig = oiv4kv.show_examples(train, n=5)
    assert len(fig.axes) == 6  # 3 x 2, one left blank
    assert titles(fig) == [f"{int(i):016x}" for i in train.ids[:5]]
    fig = oiv4kv.show_examples(train, n=5, rows=1)
    assert len(fig.axes) == 5
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (1, 5)
    fig = oiv4kv.show_examples(train, n=3, rows=2, cols=3)
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)
    assert len(titles(fig)) == 3
    with pytest.raises(ValueError, match="cannot hold"):
        oiv4kv.show_examples(train, n=5, rows=1, cols=2)

    drawn = titles(oiv4kv.show_examples(train, n=6, seed=11))
    assert drawn == titles(oiv4kv.show_examples(train, n=6, seed=11))
    assert len(set(drawn)) == 6 and set(drawn) <= ids
    assert drawn != titles(oiv4kv.show_examples(train, n=6, seed=12))
    # More than there are: all of them.
    small = subset_of(train, [2, 5])
    assert titles(oiv4kv.show_examples(small, n=9)) == \
        [f"{int(train.ids[i]):016x}" for i in (2, 5)]


def test_importing_oiv4kv_imports_neither_pandas_nor_matplotlib_nor_changes_backend():
    code = ("import sys, oiv4kv; "
            "print(any(m in sys.modules for m in ('pandas', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.strip()
    assert out == "False"


def test_show_examples_leaves_pyplot_alone(store):
    import matplotlib
    backend = matplotlib.get_backend()
    oiv4kv.show_examples(store.split("train"), n=2)
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_to_pandas_rows_match_the_records(store):
    all_names = store.vocabulary("all").names
    box_names = store.vocabulary("boxable").names
    checked = 0
    for split_name in store.splits:
        split = store.split(split_name)
        df = split.to_pandas()
        assert list(df.columns) == ["id", "index", "filename", "labels", "box_labels", "boxes"]
        assert len(df) == len(split)
        for row in df.itertuples():
            ex = split[row.index]
            assert row.id == f"{int(split.ids[row.index]):016x}"
            assert row.filename == ex["image/filename"]
            assert row.labels == positive_names(store, ex)
            assert row.box_labels == [box_names[int(l)] for l in ex["bobjects"]["label"]]
            assert row.boxes == len(ex["bobjects"]["label"])
            checked += 1
        assert list(df["index"]) == list(range(len(split)))
    assert checked == sum(len(store.split(s)) for s in store.splits)
    assert all_names  # the labels column drew on a non-empty vocabulary


def test_to_pandas_of_a_subset_with_image_sizes(store):
    train = store.split("train")
    chosen = [1, 4, 9]
    df = oiv4kv.to_pandas(subset_of(train, chosen), image_size=True, config="300k")
    assert list(df["index"]) == chosen
    assert list(df.columns)[-2:] == ["height", "width"]
    for row in df.itertuples():
        height, width = train.decoded(row.index, "300k").shape[:2]
        assert (row.height, row.width) == (height, width)
    assert len(df) == 3
    empty = oiv4kv.to_pandas(subset_of(train, []))
    assert len(empty) == 0 and "box_labels" in empty.columns


def test_rejects_what_is_neither_split_nor_subset():
    with pytest.raises(TypeError, match="Split or a subset"):
        oiv4kv.to_pandas([1, 2, 3])


def test_stats_match_counts_from_the_records(store):
    flags = ["is_occluded", "is_truncated", "is_group_of", "is_depiction", "is_inside"]
    checked = 0
    for split_name in store.splits:
        split = store.split(split_name)
        boxes = images_with_boxes = positive = negative = 0
        histogram = {}
        flag_counts = {f: {"yes": 0, "no": 0, "unknown": 0} for f in flags}
        class_boxes, class_images = {}, {}
        for i in range(len(split)):
            ex = split[i]
            labels = ex["bobjects"]["label"].tolist()
            boxes += len(labels)
            images_with_boxes += bool(labels)
            histogram[len(labels)] = histogram.get(len(labels), 0) + 1
            for f in flags:
                for v in ex["bobjects"][f].tolist():
                    flag_counts[f][{1: "yes", 0: "no", -1: "unknown"}[v]] += 1
            for label in labels:
                class_boxes[label] = class_boxes.get(label, 0) + 1
            for label in set(labels):
                class_images[label] = class_images.get(label, 0) + 1
            confidence = ex["objects"]["confidence"].tolist()
            positive += sum(1 for c in confidence if c >= POSITIVE)
            negative += sum(1 for c in confidence if c < POSITIVE)

        stats = split.stats()
        assert stats["examples"] == len(split)
        assert stats["boxes"] == boxes
        assert stats["images_with_boxes"] == images_with_boxes
        hist = stats["boxes_per_image"]["histogram"]
        assert hist == [histogram.get(n, 0) for n in range(max(histogram) + 1)]
        assert stats["boxes_per_image"]["max"] == max(histogram)
        for f in flags:
            got = stats["flags"][f]
            assert {k: got[k] for k in ("yes", "no", "unknown")} == flag_counts[f]
        assert stats["image_labels"]["positive"] == positive
        assert stats["image_labels"]["negative"] == negative
        top = stats["classes"]["boxable"]["top"]
        assert {c["label"]: c["boxes"] for c in top} == class_boxes
        assert {c["label"]: c["images"] for c in top} == class_images
        assert stats["classes"]["boxable"]["with_boxes"] == len(class_boxes)
        # Most boxes first, then most images, then label id.
        assert [c["label"] for c in top] == sorted(
            class_boxes, key=lambda l: (-class_boxes[l], -class_images[l], l))
        names = store.vocabulary("boxable").names
        assert all(c["name"] == names[c["label"]] for c in top)
        assert len(split.stats(top=2)["classes"]["boxable"]["top"]) == min(2, len(class_boxes))
        checked += 1
    assert checked == len(store.splits) > 0
