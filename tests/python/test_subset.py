"""oiv4kv.Subset (issue 15): Split.select / Split.subset read like a split,
and scans, the native Loader and the torch datasets over a subset. Expected
values come from a brute-force filter over every example of the split, read
back as dicts (split[i]), never from the subset code."""

import pickle

import numpy as np
import pytest

import oiv4kv


def box_labels(example):
    return {int(label) for label in example["bobjects"]["label"]}


def common_box(split):
    """The boxable label on the most images, so that its subset is not tiny."""
    counts = {}
    for i in range(len(split)):
        for label in box_labels(split[i]):
            counts[label] = counts.get(label, 0) + 1
    return max(counts, key=counts.get)


@pytest.fixture()
def train(store):
    return store.split("train")


@pytest.fixture()
def label(train):
    return common_box(train)


@pytest.fixture()
def expected(train, label):
    """Brute force: the split indices of the examples with a box of `label`."""
    return [i for i in range(len(train)) if label in box_labels(train[i])]


def filename(train, index):
    return train[index]["image/filename"]


def test_select_reads_like_the_brute_force_list(train, label, expected):
    dogs = train.select(f"box:#{label}")
    assert isinstance(dogs, oiv4kv.Subset)
    assert 0 < len(dogs) == len(expected) < len(train)
    assert dogs.indices.dtype == np.uint64 and list(dogs.indices) == expected
    assert not dogs.indices.flags.writeable
    split_ids = train.ids
    assert dogs.ids.dtype == np.uint64
    assert list(dogs.ids) == [int(split_ids[i]) for i in expected]
    checked = 0
    for position, index in enumerate(expected):
        assert dogs[position]["image/filename"] == filename(train, index)
        got = dogs.get(int(split_ids[index]))
        assert got["image/filename"] == filename(train, index)
        checked += 1
    assert checked == len(expected)
    assert dogs[-1]["image/filename"] == filename(train, expected[-1])
    assert [ex["image/filename"] for ex in dogs[1::2]] == \
        [filename(train, i) for i in expected[1::2]]
    assert [ex["image/filename"] for ex in dogs.examples([0, -1])] == \
        [filename(train, expected[0]), filename(train, expected[-1])]
    with pytest.raises(IndexError):
        dogs[len(expected)]
    with pytest.raises(IndexError):
        dogs[-len(expected) - 1]
    assert dogs.split.name == "train" and dogs.name == "train"
    assert isinstance(dogs.split, oiv4kv.Split)
    assert repr(dogs) == (f"<oiv4kv.Subset train: {len(expected)} of {len(train)} examples, "
                          f"query 'box:#{label}'>")


def test_pickle_keeps_store_split_indices_and_query(train, label, expected):
    dogs = train.select(f"box:#{label}")
    copy = pickle.loads(pickle.dumps(dogs))
    assert repr(copy) == repr(dogs)
    assert list(copy.indices) == expected
    assert copy[0]["image/filename"] == filename(train, expected[0])


def test_get_refuses_an_image_of_the_split_outside_the_subset(train, label, expected):
    dogs = train.select(f"box:#{label}")
    outside = next(i for i in range(len(train)) if i not in expected)
    with pytest.raises(oiv4kv.NotFoundError, match="not in this subset"):
        dogs.get(int(train.ids[outside]))


def test_images_are_those_of_the_split(train, expected):
    sub = train.subset(np.array(expected[::-1]))  # any order in: sorted
    assert list(sub.indices) == expected and sub.query is None
    assert bytes(sub.image(0, "300k")) == bytes(train.image(expected[0], "300k"))
    np.testing.assert_array_equal(sub.decoded(-1, "300k"), train.decoded(expected[-1], "300k"))


def test_select_on_a_subset_intersects(train, label, expected):
    other = common_box_other(train, label)
    both = [i for i in expected if other in box_labels(train[i])]
    assert both  # `other` was picked among the labels sharing images with `label`
    sub = train.select(f"box:#{label}").select(f"box:#{other}")
    assert list(sub.indices) == both
    assert sub.query == f"(box:#{label}) AND (box:#{other})"
    evens = train.subset(range(0, len(train), 2)).select(f"box:#{label}")
    assert list(evens.indices) == [i for i in expected if i % 2 == 0]


def common_box_other(train, label):
    """A second boxable label that shares images with `label`."""
    counts = {}
    for i in range(len(train)):
        labels = box_labels(train[i])
        if label in labels:
            for other in labels - {label}:
                counts[other] = counts.get(other, 0) + 1
    return max(counts, key=counts.get)


@pytest.mark.parametrize("order", ["sequential", "shuffled", "block_shuffled"])
def test_three_shards_visit_each_subset_example_once(train, label, expected, order):
    dogs = train.select(f"box:#{label}")
    want = sorted(filename(train, i) for i in expected)
    for epoch in (0, 1):
        seen = []
        for shard in range(3):
            seen += [ex["image/filename"] for ex in dogs.scan(
                order=order, seed=5, epoch=epoch, shard_index=shard, num_shards=3,
                batch_size=3, block_size=2)]
        assert sorted(seen) == want, (order, epoch)


def test_resume_mid_epoch_gives_exactly_the_rest(train, label, expected):
    dogs = train.select(f"box:#{label}")
    full = [ex["image/filename"] for ex in dogs.scan(seed=3, epoch=2, batch_size=2)]
    assert len(full) == len(expected)
    it = dogs.scan(seed=3, epoch=2, batch_size=2)
    cut = len(expected) // 2
    head = [next(it)["image/filename"] for _ in range(cut)]
    state = it.state()
    rest = [ex["image/filename"] for ex in dogs.scan(seed=3, state=state, batch_size=2)]
    assert head + rest == full and len(rest) == len(expected) - cut
    # The state names the subset: the whole split, or another subset, refuse it.
    with pytest.raises(ValueError):
        list(train.scan(seed=3, state=state))
    with pytest.raises(ValueError):
        list(train.subset(expected[1:]).scan(seed=3, state=state))


def test_native_loader_reads_only_the_subset(store, train, label, expected):
    dogs = train.select(f"box:#{label}")
    want = sorted(int(train.ids[i]) for i in expected)
    got = []
    batches = 0
    loader = oiv4kv.Loader(store, dogs, batch_size=4, size=(16, 16), threads=2, seed=1)
    assert len(loader) == -(-len(expected) // 4)
    for batch in loader:
        got += [int(i) for i, v in zip(batch["image_id"], batch["valid"]) if v]
        batches += 1
    assert batches == len(loader)
    assert sorted(got) == want


def test_subset_errors_name_the_value(train, expected):
    n = len(train)
    with pytest.raises(oiv4kv.InvalidArgumentError, match=r"index 3 appears more than once"):
        train.subset([5, 3, 3])
    with pytest.raises(oiv4kv.InvalidArgumentError, match=rf"index {n} is out of range"):
        train.subset([0, n])
    with pytest.raises(oiv4kv.InvalidArgumentError, match=r"index -1 is negative"):
        train.subset([-1])
    with pytest.raises(TypeError):
        train.subset([1.5])
    with pytest.raises(oiv4kv.InvalidArgumentError, match="did you mean|unknown"):
        train.select('box:"Surely Not A Class Name"')
    # select_indices keeps working beside select.
    assert list(train.select_indices("NOT all")) == [] and len(train.select("NOT all")) == 0


def test_torch_datasets_over_a_subset(store, train, label, expected):
    ot = pytest.importorskip("oiv4kv.torch")
    dogs = train.select(f"box:#{label}")
    want = sorted(filename(train, i) for i in expected)

    mapped = ot.OpenImagesDataset(store, dogs, config="300k", images=False)
    assert len(mapped) == len(expected)
    assert sorted(mapped[i]["image/filename"] for i in range(len(mapped))) == want

    seen = []
    for rank in range(3):
        stream = ot.OpenImagesIterableDataset(store, dogs, images=False, seed=2, batch_size=2,
                                              rank=rank, world_size=3)
        part = [ex["image/filename"] for ex in stream]
        assert len(part) == len(stream)
        seen += part
    assert sorted(seen) == want

    # state_dict after one batch: a fresh dataset resumes with the rest.
    stream = ot.OpenImagesIterableDataset(store, dogs, images=False, seed=2, batch_size=2)
    full = [ex["image/filename"] for ex in stream]
    loader = stream.loader(num_workers=0)
    first = next(iter(loader))["image/filename"]
    resumed = ot.OpenImagesIterableDataset(store, dogs, images=False, seed=2, batch_size=2)
    resumed.load_state_dict(stream.state_dict())
    assert first + [ex["image/filename"] for ex in resumed] == full
    whole = ot.OpenImagesIterableDataset(store, "train", images=False, seed=2, batch_size=2)
    with pytest.raises(ValueError, match="subset"):
        whole.load_state_dict(stream.state_dict())

    native = ot.Loader(store, dogs, batch_size=4, size=(16, 16), threads=2)
    ids = [int(i) & (2**64 - 1) for b in native for i, v in zip(b["image_id"], b["valid"]) if v]
    assert sorted(ids) == sorted(int(train.ids[i]) for i in expected)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_map_dataset_over_a_subset_in_workers(store, train, label, expected, context):
    torch = pytest.importorskip("torch")
    ot = pytest.importorskip("oiv4kv.torch")
    dogs = train.select(f"box:#{label}")
    ds = ot.OpenImagesDataset(store, dogs, images=False)
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2, collate_fn=ot.collate,
                                         multiprocessing_context=context, timeout=120)
    names = [name for batch in loader for name in batch["image/filename"]]
    assert names == [filename(train, i) for i in expected]
