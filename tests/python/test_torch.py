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
