"""oiv4kv.torch inside real DataLoaders: forked and spawned workers, ranks,
epochs."""

import pickle
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import oiv4kv  # noqa: E402
import oiv4kv.torch as ot  # noqa: E402


def filenames(loader):
    return [name for batch in loader for name in batch["image/filename"]]


def test_core_module_does_not_import_torch():
    code = "import sys, oiv4kv; s = oiv4kv.Store; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_map_dataset_gives_tfds_dtypes_and_values(store):
    ds = ot.OpenImagesDataset(store, "train", config="300k")
    split = store.split("train")
    assert len(ds) == len(split)
    ex = ds[3]
    assert ex["image/filename"] == split[3]["image/filename"]
    assert ex["image"].dtype == torch.uint8 and ex["image"].shape[2] == 3
    np.testing.assert_array_equal(ex["image"].numpy(), split.decoded(3, "300k"))
    assert ex["objects"]["label"].dtype == torch.int64
    assert ex["objects"]["confidence"].dtype == torch.int32
    assert ex["objects"]["source"].dtype == torch.int64
    assert ex["bobjects"]["bbox"].dtype == torch.float32
    assert ex["bobjects"]["is_group_of"].dtype == torch.int8
    assert ex["objects"]["label"].tolist() == split[3]["objects"]["label"].tolist()
    np.testing.assert_array_equal(ex["bobjects"]["bbox"].numpy(), split[3]["bobjects"]["bbox"])
    encoded = ot.OpenImagesDataset(store, "train", config="300k", decode=False)[3]["image"]
    assert bytes(encoded.numpy()) == bytes(split.image(3, "300k"))


def test_map_dataset_forked_workers_two_epochs(store):
    # The store is opened and read in the parent before the workers fork.
    ds = ot.OpenImagesDataset(store, "train", config="300k",
                              transform=lambda ex: {**ex, "pixels": int(ex["image"].sum())})
    split = store.split("train")
    want = {split[i]["image/filename"]: (int(split.decoded(i, "300k").sum()),
                                         split[i]["bobjects"]["bbox"].tolist())
            for i in range(len(split))}
    loader = torch.utils.data.DataLoader(ds, batch_size=5, shuffle=True, num_workers=4,
                                         collate_fn=ot.collate, timeout=120)
    for _ in range(2):
        seen = {}
        for batch in loader:
            for name, pixels, boxes in zip(batch["image/filename"], batch["pixels"],
                                           batch["bobjects"]["bbox"]):
                assert name not in seen
                seen[name] = (pixels, boxes.tolist())
        assert seen == want


def test_iterable_dataset_every_example_once_per_epoch(store_path):
    ds = ot.OpenImagesIterableDataset(str(store_path), "train", config="300k", seed=9,
                                      batch_size=4)
    everything = sorted(ds.store.split("train")[i]["image/filename"]
                        for i in range(len(ds.store.split("train"))))
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=4,
                                         collate_fn=ot.collate, timeout=120)
    epochs = []
    for epoch in range(2):
        ds.set_epoch(epoch)
        names = filenames(loader)
        assert Counter(names) == Counter(everything)  # exactly once
        epochs.append(names)
    assert epochs[0] != epochs[1]


def test_ranks_times_workers_partition_the_epoch(store_path):
    everything = None
    seen = []
    for rank in range(2):
        ds = ot.OpenImagesIterableDataset(str(store_path), "validation", images=False,
                                          seed=4, rank=rank, world_size=2)
        ds.set_epoch(1)
        everything = everything or sorted(ds.store.split("validation")[i]["image/filename"]
                                          for i in range(len(ds.store.split("validation"))))
        loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2,
                                             collate_fn=ot.collate, timeout=120)
        seen += filenames(loader)
    assert Counter(seen) == Counter(everything)


def test_spawned_workers_open_the_pickled_store(store_path):
    ds = ot.OpenImagesDataset(str(store_path), "test", config="300k")
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2, collate_fn=ot.collate,
                                         multiprocessing_context="spawn", timeout=120)
    assert sorted(filenames(loader)) == sorted(ds.store.split("test")[i]["image/filename"]
                                               for i in range(len(ds)))


@pytest.mark.parametrize("by_value_bytes", [0, 1 << 30])  # tensors / numpy in the pickle
def test_collate_packs_ragged_fields_and_stacks_equal_images(store, monkeypatch, by_value_bytes):
    monkeypatch.setattr(ot, "_BY_VALUE_BYTES", by_value_bytes)
    split = store.split("train")
    ds = ot.OpenImagesDataset(store, "train", config="300k")
    examples = [ds[i] for i in range(4)]
    batch = ot.collate(examples)
    boxes = batch["bobjects"]["bbox"]
    assert isinstance(boxes, ot.Ragged) and len(boxes) == 4
    for i in range(4):
        np.testing.assert_array_equal(boxes[i].numpy(), split[i]["bobjects"]["bbox"])
        assert batch["objects"]["label"][i].tolist() == split[i]["objects"]["label"].tolist()
        assert batch["objects"]["label"][i].dtype == torch.int64
    assert boxes.lengths().tolist() == [len(split[i]["bobjects"]["label"]) for i in range(4)]
    # Images of different sizes: one flat buffer, each image a view of its shape.
    shapes = {tuple(ex["image"].shape) for ex in examples}
    assert len(shapes) > 1, "the fixture should have images of several sizes"
    assert isinstance(batch["image"], ot.Ragged)
    for i, ex in enumerate(examples):
        assert torch.equal(batch["image"][i], ex["image"])
    with pytest.raises(IndexError):
        boxes[4]
    # Pickled (as a worker sends it): one buffer per field, rows are views.
    for field in (boxes, batch["image"]):
        back = pickle.loads(pickle.dumps(field))
        assert len(back) == 4
        assert back.values.numel() == sum(t.numel() for t in field)
        for i in range(4):
            assert torch.equal(back[i], field[i])
            assert back[i].data_ptr() == back.values[back.row_splits[i]:].data_ptr()
    # Equal shapes (after a resizing transform): stacked.
    crop = [{**ex, "image": ex["image"][:8, :8]} for ex in examples]
    stacked = ot.collate(crop)["image"]
    assert stacked.shape == (4, 8, 8, 3)
    assert torch.equal(stacked[2], examples[2]["image"][:8, :8])


def test_bad_arguments(store):
    with pytest.raises(ValueError, match="rank"):
        ot.OpenImagesIterableDataset(store, "train", rank=2, world_size=2)
    with pytest.raises(oiv4kv.InvalidArgumentError):
        ot.OpenImagesDataset("/nonexistent/store")


# --- rank, world, epochs, state, length (issue 11) ---------------------------

def all_names(store, split_name):
    split = store.split(split_name)
    return sorted(split[i]["image/filename"] for i in range(len(split)))


def scan_names(store, split_name, **scan_args):
    """The epoch's order from Split.scan (pinned by scan_test), as filenames."""
    split = store.split(split_name)
    return [split[int(i)]["image/filename"] for i in split.scan(**scan_args).indices]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ranks_from_torch_distributed_reach_forked_spawned_and_forkserver_workers(
        store, store_path, tmp_path):
    import json
    import _dist_helper
    torch.multiprocessing.spawn(_dist_helper.rank_main,
                                args=(2, free_port(), str(store_path), str(tmp_path)),
                                nprocs=2, join=True)
    results = [json.loads((tmp_path / f"{rank}.json").read_text()) for rank in range(2)]
    everything = all_names(store, "validation")
    order = scan_names(store, "validation", seed=4, epoch=0)
    n = len(everything)
    checked = 0
    for context in ("fork", "spawn", "forkserver"):
        ranks = [r[context] for r in results]
        assert sorted(ranks[0] + ranks[1]) == everything, context  # complete, disjoint
        # Rank r reads shard r of 2 of the epoch's order, in order.
        assert ranks[0] == order[:(n + 1) // 2], context
        assert ranks[1] == order[(n + 1) // 2:], context
        checked += 1
    assert checked == 3
    for r in results:
        assert r["early_fork"] == r["fork"] and r["early_spawn"] == r["fork"]
    assert [r["len"] for r in results] == [(n + 1) // 2, n // 2]


def test_set_epoch_reaches_persistent_workers(store, store_path):
    args = dict(images=False, seed=5, batch_size=2)
    ds = ot.OpenImagesIterableDataset(str(store_path), "validation", **args)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True,
                                         collate_fn=ot.collate, timeout=120)
    everything = all_names(store, "validation")
    orders = []
    for epoch in range(3):
        ds.set_epoch(epoch)
        got = filenames(loader)
        assert sorted(got) == everything
        assert got == scan_names(store, "validation", seed=5, epoch=epoch)
        fresh = ot.OpenImagesIterableDataset(str(store_path), "validation", **args)
        fresh.set_epoch(epoch)
        assert got == filenames(torch.utils.data.DataLoader(
            fresh, batch_size=2, num_workers=2, collate_fn=ot.collate, timeout=120))
        orders.append(tuple(got))
    assert len(set(orders)) == 3


def test_state_dict_resumes_exactly_with_any_number_of_workers(store, store_path):
    args = dict(images=False, seed=3, batch_size=3)

    def batches(loader_iter, count=None):
        out = []
        for batch in loader_iter:
            out.append(list(batch["image/filename"]))
            if count is not None and len(out) == count:
                break
        return out

    ds = ot.OpenImagesIterableDataset(str(store_path), "train", **args)
    ds.set_epoch(1)
    full = batches(ds.loader(num_workers=2, timeout=120))
    assert sum(full, []) == scan_names(store, "train", seed=3, epoch=1)
    assert len(full) >= 4
    checked = 0
    for stop in (1, len(full) // 2 + 1):
        ds = ot.OpenImagesIterableDataset(str(store_path), "train", **args)
        ds.set_epoch(1)
        it = iter(ds.loader(num_workers=2, timeout=120))
        head = batches(it, stop)
        state = pickle.loads(pickle.dumps(ds.state_dict()))
        del it
        assert state["epoch"] == 1 and state["delivered"] == 3 * stop
        for workers in (0, 1, 3):
            resumed = ot.OpenImagesIterableDataset(str(store_path), "train", **args)
            resumed.load_state_dict(state)
            timeout = 120 if workers else 0
            rest = batches(resumed.loader(num_workers=workers, timeout=timeout))
            assert head + rest == full, (stop, workers)
            # The next epoch starts at its beginning.
            resumed.set_epoch(2)
            assert filenames(resumed.loader(num_workers=workers, timeout=timeout)) == \
                scan_names(store, "train", seed=3, epoch=2)
            checked += 1
    assert checked == 6
    other = ot.OpenImagesIterableDataset(str(store_path), "train", **dict(args, seed=4))
    with pytest.raises(ValueError, match="seed is 3 in the state but 4 here"):
        other.load_state_dict(state)
    other = ot.OpenImagesIterableDataset(str(store_path), "train", rank=1, world_size=2, **args)
    with pytest.raises(ValueError, match="rank is 0 in the state but 1 here"):
        other.load_state_dict(state)


def test_worker_told_another_rank_by_the_environment_refuses(store_path, monkeypatch):
    ds = ot.OpenImagesIterableDataset(str(store_path), "validation", images=False)
    assert ds.rank_source == "provisional"
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=1, collate_fn=ot.collate,
                                         timeout=120)
    with pytest.raises(RuntimeError, match="runs on rank 1 of 2"):
        filenames(loader)


def test_len_and_equal_ranks_with_pad_or_drop_last(store, store_path):
    sizes = {name: len(store.split(name)) for name in ("train", "validation", "test")}
    uneven = [name for name, n in sizes.items() if n % 3 != 0]
    assert uneven, sizes
    name = uneven[0]
    n = sizes[name]
    everything = all_names(store, name)
    checked = 0
    for mode in ("none", "pad", "drop_last"):
        per_rank = []
        for rank in range(3):
            ds = ot.OpenImagesIterableDataset(
                str(store_path), name, images=False, seed=2, batch_size=2, rank=rank,
                world_size=3, pad=mode == "pad", drop_last=mode == "drop_last")
            names = filenames(ds.loader(num_workers=2, timeout=120))
            assert len(ds) == len(names), (mode, rank)
            per_rank.append(names)
            checked += 1
        counts = [len(r) for r in per_rank]
        union = sum(per_rank, [])
        if mode == "none":
            assert counts == [n // 3 + (r < n % 3) for r in range(3)]
            assert sorted(union) == everything
        elif mode == "pad":
            assert counts == [-(-n // 3)] * 3
            assert set(union) == set(everything)
        else:
            assert counts == [n // 3] * 3
            assert len(set(union)) == len(union) and set(union) <= set(everything)
    assert checked == 9
    with pytest.raises(ValueError, match="pick one"):
        ot.OpenImagesIterableDataset(str(store_path), name, pad=True, drop_last=True)


def to_pixel_boxes(example):
    """A transform that returns a new dict, with boxes in pixels."""
    h, w = example["image"].shape[:2]
    return {"pixels": example["image"],
            "boxes": example["bobjects"]["bbox"] * torch.tensor([h, w, h, w]),
            "labels": example["bobjects"]["label"],
            "name": example["image/filename"],
            "height": h}


def test_collate_takes_any_dict_a_transform_returns(store):
    split = store.split("train")
    ds = ot.OpenImagesDataset(store, "train", config="300k", transform=to_pixel_boxes)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2,
                                         collate_fn=ot.collate, timeout=120)
    index_of = {split[i]["image/filename"]: i for i in range(len(split))}
    checked = 0
    for batch in loader:
        assert isinstance(batch["boxes"], ot.Ragged) and isinstance(batch["labels"], ot.Ragged)
        assert isinstance(batch["name"], list)
        assert batch["height"].dtype == torch.int64
        for k, name in enumerate(batch["name"]):
            i = index_of[name]
            h, w = split.decoded(i, "300k").shape[:2]
            want = split[i]["bobjects"]["bbox"] * np.array([h, w, h, w], dtype=np.float32)
            np.testing.assert_allclose(batch["boxes"][k].numpy(), want, rtol=1e-6)
            assert batch["labels"][k].tolist() == split[i]["bobjects"]["label"].tolist()
            assert int(batch["height"][k]) == h
            checked += 1
    assert checked == len(split)
