"""Class-balanced sampling from Python: oiv4kv.RepeatFactorSampler and
oiv4kv.ClassAwareSampler, Split.scan(sampler=...), oiv4kv.Loader(sampler=...)
and oiv4kv.torch.ClassBalancedSampler. Expected frequencies are computed here
from the split's records (read back as dicts), never by the sampler."""

import math
from collections import Counter

import numpy as np
import pytest

import oiv4kv

EPOCHS = 400


def box_classes(split):
    """Each example's set of boxable classes, from its record."""
    return [set(int(c) for c in split[i]["bobjects"]["label"]) for i in range(len(split))]


def lvis_repeat_factors(sets, t):
    """r(i) = max over the classes c of i of max(1, sqrt(t / f(c))), f(c) the
    fraction of the images holding c; 1 without classes."""
    images = Counter(c for s in sets for c in s)
    n = len(sets)
    return [max([1.0] + [math.sqrt(t / (images[c] / n)) for c in s]) for s in sets]


class StandIn:
    """What oiv4kv.Subset offers a sampler: .split and ascending .indices."""

    def __init__(self, split, indices):
        self.split = split
        self.indices = np.asarray(indices, dtype=np.uint64)


@pytest.fixture()
def train(store):
    return store.split("train")


def test_repeat_factor_epochs_follow_the_lvis_formula(train):
    sets = box_classes(train)
    expected = lvis_repeat_factors(sets, 0.3)
    assert max(expected) > 1.5, "the fixture must have rare classes to repeat"
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    np.testing.assert_allclose(sampler.expected_repeats, expected, rtol=1e-12)
    counts = np.zeros(len(train))
    for e in range(EPOCHS):
        epoch = sampler.epoch(seed=5, epoch=e)
        assert epoch.dtype == np.uint64
        assert np.all(np.diff(epoch.astype(np.int64)) >= 0), "ascending, repeats adjacent"
        per_image = np.bincount(epoch.astype(np.int64), minlength=len(train))
        # Stochastic rounding: floor(r) or ceil(r) copies of every image.
        assert np.all(per_image >= np.floor(expected)) and np.all(per_image <= np.ceil(expected))
        counts += per_image
    checked = 0
    for i, r in enumerate(expected):
        frac = r - math.floor(r)
        sigma = math.sqrt(EPOCHS * frac * (1 - frac))
        assert abs(counts[i] - EPOCHS * r) <= 5 * sigma + 1e-9, f"image {i}: r={r}"
        checked += 1
    assert checked == len(train)
    assert sampler.expected_epoch_length == pytest.approx(sum(expected))


def test_report_gives_each_class_before_and_after(train, store):
    sets = box_classes(train)
    expected = lvis_repeat_factors(sets, 0.3)
    report = oiv4kv.RepeatFactorSampler(train, threshold=0.3).report()
    assert report["method"] == "repeat_factor" and report["classes"] == "boxes"
    assert report["num_images"] == len(train)
    assert report["images_with_classes"] == sum(1 for s in sets if s)
    assert report["expected_epoch_length"] == pytest.approx(sum(expected))
    images = Counter(c for s in sets for c in s)
    boxable = store.vocabulary("boxable")
    rows = report["per_class"]
    assert [r["images"] for r in rows] == sorted((r["images"] for r in rows), reverse=True)
    for row in rows:
        c = row["label"]
        assert row["images"] == images[c]
        assert row["expected"] == pytest.approx(sum(r for s, r in zip(sets, expected) if c in s))
        assert (row["mid"], row["name"]) == (boxable.mid(c), boxable.name(c))
    assert len(rows) == len(images)


def test_class_aware_draws_classes_uniformly(train):
    sets = box_classes(train)
    members = {}
    for i, s in enumerate(sets):
        for c in s:
            members.setdefault(c, []).append(i)
    assert len(members) > 5
    sampler = oiv4kv.ClassAwareSampler(train, epoch_length=300)
    assert sampler.expected_epoch_length == pytest.approx(300)
    counts = np.zeros(len(train))
    for e in range(EPOCHS):
        epoch = sampler.epoch(seed=2, epoch=e)
        assert len(epoch) == 300
        counts += np.bincount(epoch.astype(np.int64), minlength=len(train))
    draws = EPOCHS * 300
    q = 1 / len(members)
    checked = 0
    for c, images in members.items():
        # Each draw picks c with probability 1/C, then one of its images;
        # other classes' draws can land on its images too: at least 1/C.
        share = counts[images].sum() / draws
        assert share >= q - 5 * math.sqrt(q * (1 - q) / draws), f"class {c}"
        checked += 1
    assert checked == len(members)
    assert all(counts[i] == 0 for i, s in enumerate(sets) if not s), "classless image drawn"
    # The default epoch length is the population's size.
    assert len(oiv4kv.ClassAwareSampler(train).epoch(seed=0, epoch=0)) == len(train)


def test_epochs_are_deterministic_from_seed_and_epoch(train):
    a = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    b = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    assert a.name == b.name
    np.testing.assert_array_equal(a.epoch(seed=3, epoch=1), b.epoch(seed=3, epoch=1))
    differ = sum(not np.array_equal(a.epoch(seed=3, epoch=1), a.epoch(seed=s, epoch=e))
                 for s, e in ((3, 2), (4, 1), (3, 3)))
    assert differ == 3


def test_a_subset_population_samples_only_the_subset(train):
    indices = list(range(1, len(train), 3))
    sampler = oiv4kv.RepeatFactorSampler(StandIn(train, indices), threshold=0.3)
    assert len(sampler) == len(indices)
    np.testing.assert_array_equal(sampler.indices, indices)
    sets = box_classes(train)
    expected = lvis_repeat_factors([sets[i] for i in indices], 0.3)
    np.testing.assert_allclose(sampler.expected_repeats, expected, rtol=1e-12)
    seen = set()
    for e in range(20):
        seen.update(int(i) for i in sampler.epoch(seed=1, epoch=e))
    assert seen <= set(indices) and seen
    with pytest.raises(oiv4kv.InvalidArgumentError):
        oiv4kv.RepeatFactorSampler(StandIn(train, [5, 2]))  # not ascending


def test_bad_arguments_are_refused(train):
    with pytest.raises(TypeError, match="population"):
        oiv4kv.RepeatFactorSampler([1, 2, 3])
    with pytest.raises(ValueError, match="classes"):
        oiv4kv.RepeatFactorSampler(train, classes="masks")
    with pytest.raises(oiv4kv.InvalidArgumentError):
        oiv4kv.RepeatFactorSampler(train, threshold=0)
    with pytest.raises(ValueError, match="epoch_length"):
        oiv4kv.ClassAwareSampler(train, epoch_length=0)
    with pytest.raises(TypeError, match="sampler"):
        train.scan(sampler="repeat_factor")


def test_image_label_classes_use_positive_labels(train):
    sets = [set(int(c) for c, conf in zip(ex["objects"]["label"], ex["objects"]["confidence"])
                if conf >= 5)
            for ex in (train[i] for i in range(len(train)))]
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3, classes="image_labels")
    np.testing.assert_allclose(sampler.expected_repeats, lvis_repeat_factors(sets, 0.3),
                               rtol=1e-12)


def scan_indices(train, sampler, **kwargs):
    return [int(i) for i in train.scan(sampler=sampler, seed=7, epoch=1, **kwargs).indices]


def test_scan_shards_cover_the_epochs_multiset(train):
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    epoch = Counter(int(i) for i in sampler.epoch(seed=7, epoch=1))
    length = sum(epoch.values())
    padded = -(-length // 3) * 3
    shards = [scan_indices(train, sampler, shard_index=k, num_shards=3) for k in range(3)]
    assert [len(s) for s in shards] == [padded // 3] * 3
    covered = Counter(i for s in shards for i in s)
    extra = covered - epoch
    assert not epoch - covered, "an entry of the epoch is missing"
    assert sum(extra.values()) == padded - length
    # Iterating yields those examples, in that order.
    scan = train.scan(sampler=sampler, seed=7, epoch=1, shard_index=2, num_shards=3)
    assert [ex["image/filename"] for ex in scan] == \
        [train[i]["image/filename"] for i in shards[2]]


def test_scan_resumes_and_refuses_another_samplers_state(train):
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    full = [ex["image/filename"] for ex in train.scan(sampler=sampler, seed=7, epoch=1,
                                                     batch_size=4)]
    scan = train.scan(sampler=sampler, seed=7, epoch=1, batch_size=4)
    head = [next(scan)["image/filename"] for _ in range(9)]
    state = scan.state()
    assert f"sampler={sampler.name}" in state
    resumed = train.scan(sampler=sampler, seed=7, epoch=1, batch_size=4, state=state)
    assert head + [ex["image/filename"] for ex in resumed] == full
    other = oiv4kv.ClassAwareSampler(train)
    with pytest.raises(ValueError, match="sampler"):
        train.scan(sampler=other, seed=7, state=state)
    with pytest.raises(ValueError, match="sampler"):
        train.scan(seed=7, state=state)


def test_loader_reads_the_sampled_epoch_and_resumes(store, train):
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    kwargs = dict(batch_size=4, size=16, seed=7, epoch=1, threads=2, sampler=sampler)
    loader = oiv4kv.Loader(store, "train", **kwargs)
    batches = [(b["index"][b["valid"]].tolist(), b["transform"]["crop_x"][b["valid"]].tolist())
               for b in loader]
    delivered = [i for indices, _ in batches for i in indices]
    assert Counter(delivered) == Counter(int(i) for i in sampler.epoch(seed=7, epoch=1))
    again = oiv4kv.Loader(store, "train", **kwargs)
    next(again)
    next(again)
    resumed = oiv4kv.Loader(store, "train", state=again.state(), **kwargs)
    assert [b["index"][b["valid"]].tolist() for b in resumed] == \
        [indices for indices, _ in batches[2:]]


# -- torch ----------------------------------------------------------------------

torch = pytest.importorskip("torch")


def test_torch_sampler_shares_the_epoch_equally_between_two_ranks(train):
    import oiv4kv.torch as ot
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    checked = 0
    for epoch in (0, 1, 2):
        multiset = Counter(int(i) for i in sampler.epoch(seed=3, epoch=epoch))
        length = sum(multiset.values())
        for drop_last in (False, True):
            ranks = [ot.ClassBalancedSampler(sampler, seed=3, rank=r, world_size=2,
                                             drop_last=drop_last) for r in (0, 1)]
            seqs = []
            for r in ranks:
                r.set_epoch(epoch)
                seqs.append(list(r))
                assert len(r) == len(seqs[-1])
            assert len(seqs[0]) == len(seqs[1])
            covered = Counter(seqs[0] + seqs[1])
            if drop_last:
                assert len(seqs[0]) == length // 2
                assert not covered - multiset
            else:
                assert len(seqs[0]) == -(-length // 2)
                assert not multiset - covered
                assert sum((covered - multiset).values()) == length % 2
            checked += 1
    assert checked == 6


def test_torch_sampler_is_deterministic_and_resumes_exactly(train):
    import oiv4kv.torch as ot
    sampler = oiv4kv.ClassAwareSampler(train, epoch_length=50)
    a = ot.ClassBalancedSampler(sampler, seed=9, rank=1, world_size=3)
    b = ot.ClassBalancedSampler(sampler, seed=9, rank=1, world_size=3)
    a.set_epoch(4)
    b.set_epoch(4)
    full = list(a)
    assert full == list(b)
    b.set_epoch(5)
    assert list(b) != full
    # Resume after 7 consumed indices of epoch 4.
    c = ot.ClassBalancedSampler(sampler, seed=9, rank=1, world_size=3)
    c.set_epoch(4)
    it = iter(c)
    head = [next(it) for _ in range(7)]
    state = c.state_dict()
    assert state["consumed"] == 7 and state["epoch"] == 4
    d = ot.ClassBalancedSampler(sampler, seed=9, rank=1, world_size=3)
    d.load_state_dict(state)
    d.set_epoch(4)  # a loaded epoch is kept
    assert head + list(d) == full
    assert list(d) == full, "the next iteration starts the epoch again"
    e = ot.ClassBalancedSampler(sampler, seed=10, rank=1, world_size=3)
    with pytest.raises(ValueError, match="seed"):
        e.load_state_dict(state)


def test_torch_sampler_drives_a_dataloader(store_path, train):
    import oiv4kv.torch as ot
    ds = ot.OpenImagesDataset(str(store_path), "train", images=False)
    sampler = ot.ClassBalancedSampler(oiv4kv.RepeatFactorSampler(train, threshold=0.3), seed=1)
    loader = torch.utils.data.DataLoader(ds, batch_size=5, sampler=sampler,
                                         collate_fn=ot.collate)
    names = [n for batch in loader for n in batch["image/filename"]]
    assert names == [train[i]["image/filename"] for i in sampler.rank_indices()]
    assert len(names) == len(sampler)
    # Stop after 2 batches, resume, stop after 1 more, resume: the rest.
    got = []
    state = None
    for stop in (2, 1, None):
        if state is not None:
            sampler.load_state_dict(state)
        for k, batch in enumerate(loader):
            if k == stop:
                state = sampler.state_dict(consumed=5 * stop)
                break
            got += batch["image/filename"]
    assert got == names


def test_torch_loader_takes_a_sampler(store, train):
    import oiv4kv.torch as ot
    sampler = oiv4kv.RepeatFactorSampler(train, threshold=0.3)
    multiset = Counter(int(i) for i in sampler.epoch(seed=2, epoch=3))
    delivered = Counter()
    lengths = []
    for rank in (0, 1):
        loader = ot.Loader(store, "train", batch_size=4, size=16, seed=2, epoch=3, threads=1,
                           sampler=sampler, rank=rank, world_size=2)
        batches = list(loader)
        lengths.append(len(batches))
        for b in batches:
            delivered.update(b["index"][b["valid"]].tolist())
    assert lengths[0] == lengths[1] == len(loader)
    assert not multiset - delivered
    assert sum((delivered - multiset).values()) == sum(multiset.values()) % 2
