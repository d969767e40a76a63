"""oiv4kv.torch.Loader (issue 14 item 5): the native Loader's batches as
tensors without a copy, rank/world like OpenImagesIterableDataset,
set_epoch, state_dict/load_state_dict, len, pin_memory. Expected batches
come from oiv4kv.Loader and Split.scan."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import oiv4kv  # noqa: E402
import oiv4kv.torch as ot  # noqa: E402

SMALL = dict(batch_size=8, size=(32, 32), threads=2, seed=6)


def ids_of(batches):
    return [[int(i) & (2**64 - 1) for i in b["image_id"].tolist()] for b in batches]


def native_ids(store, **kwargs):
    return [b["image_id"].tolist() for b in oiv4kv.Loader(store, "train", **kwargs)]


def test_image_tensor_is_the_numpy_view_without_a_copy(store):
    native = oiv4kv.Loader(store, "train", **SMALL)
    batch = next(iter(native))
    tensors = ot.to_torch(batch)
    assert tensors["image"].data_ptr() == batch["image"].ctypes.data
    assert tensors["image"].shape == (8, 32, 32, 3) and tensors["image"].dtype == torch.uint8
    # ids keep their 64 bits in int64
    assert [int(i) & (2**64 - 1) for i in tensors["image_id"].tolist()] == \
        batch["image_id"].tolist()
    assert tensors["valid"].dtype == torch.bool
    assert tensors["bobjects"]["bbox"].dtype == torch.float32
    assert tensors["bobjects"]["offsets"].tolist() == batch["bobjects"]["offsets"].tolist()
    assert tensors["transform"]["crop_x"].tolist() == batch["transform"]["crop_x"].tolist()

    # Through ot.Loader: the tensor is the ring slot, refilled by the next batch.
    loader = ot.Loader(store, "train", **SMALL, prefetch=0)
    it = iter(loader)
    first = next(it)["image"]
    kept = first.clone()
    second = next(it)["image"]
    assert first.data_ptr() == second.data_ptr()
    assert torch.equal(first, second) and not torch.equal(first, kept)


def test_batches_are_the_native_loaders_for_the_rank(store, monkeypatch):
    split = store.split("train")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    loader = ot.Loader(store, "train", **SMALL, epoch=2)
    assert (loader.rank, loader.world_size) == (1, 3)
    want = native_ids(store, **SMALL, epoch=2, shard_index=1, num_shards=3)
    got = ids_of(loader)
    assert got == want and len(got) == len(loader) == 3
    # ... which is shard 1 of 3 of the scan's order
    order = [int(split.ids[i]) for i in split.scan(seed=6, epoch=2, shard_index=1,
                                                   num_shards=3).indices]
    assert [i for b in got for i in b if i] == order
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    assert (ot.Loader(store, "train", **SMALL).rank, ot.Loader(store, "train").world_size) == \
        (0, 1)
    given = ot.Loader(store, "train", **SMALL, rank=2, world_size=3)
    assert ids_of(given) == native_ids(store, **SMALL, shard_index=2, num_shards=3)


def test_set_epoch_and_state_dict_resume_exactly(store):
    loader = ot.Loader(store, "train", **SMALL)
    epoch0 = ids_of(loader)
    loader.set_epoch(1)
    assert loader.epoch == 1
    full, states = [], []
    for b in loader:
        full.append(([int(i) for i in b["image_id"].tolist()], b["image"].clone()))
        states.append(loader.state_dict())
    assert [f[0] for f in full] != [[int(i) for i in b] for b in epoch0]
    assert ids_of([{"image_id": torch.tensor(f[0])} for f in full]) == \
        native_ids(store, **SMALL, epoch=1)
    checked = 0
    for k, state in enumerate(states):
        assert state["epoch"] == 1 and state["position"].startswith("loader1:")
        again = ot.Loader(store, "train", **SMALL)  # epoch 0 until the state says 1
        again.load_state_dict(state)
        again.set_epoch(1)  # keeps the loaded position of its epoch
        assert again.epoch == 1 and again.state_dict() == state
        rest = [([int(i) for i in b["image_id"].tolist()], b["image"].clone()) for b in again]
        assert len(rest) == len(full) - k - 1
        for (ids, img), (want_ids, want_img) in zip(rest, full[k + 1:]):
            assert ids == want_ids and torch.equal(img, want_img)
            checked += 1
    assert checked == sum(range(len(full)))
    again = ot.Loader(store, "train", **SMALL)
    again.load_state_dict(states[2])
    again.set_epoch(0)  # another epoch: from its start
    assert ids_of(again) == [[int(i) & (2**64 - 1) for i in b] for b in epoch0]
    with pytest.raises(ValueError, match="batch_size"):
        ot.Loader(store, "train", **dict(SMALL, batch_size=4)).load_state_dict(states[0])
    with pytest.raises(ValueError, match="version"):
        loader.load_state_dict({"epoch": 0, "position": None})


def test_arguments_are_checked(store):
    with pytest.raises(TypeError, match="shard_index"):
        ot.Loader(store, "train", shard_index=1)
    with pytest.raises(ValueError, match="rank 3 is not in"):
        ot.Loader(store, "train", rank=3, world_size=3)
    with pytest.raises(ValueError, match="transform must be 'random_resized_crop'"):
        ot.Loader(store, "train", transform="nope")


def test_pin_memory_needs_cuda(store):
    if torch.cuda.is_available():
        batch = next(iter(ot.Loader(store, "train", **SMALL, pin_memory=True)))
        assert batch["image"].is_pinned()
        return
    with pytest.raises(ValueError) as e:
        ot.Loader(store, "train", **SMALL, pin_memory=True)
    assert str(e.value) == ("pin_memory=True needs CUDA, and torch.cuda.is_available() is "
                            "False here: leave pin_memory off")


def test_rank_and_world_come_from_torch_distributed(store, store_path, tmp_path):
    import json
    import socket

    import _dist_helper
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_dist_helper.loader_rank_main,
                                args=(2, port, str(store_path), str(tmp_path)),
                                nprocs=2, join=True)
    checked = 0
    for rank in range(2):
        got = json.loads((tmp_path / f"loader{rank}.json").read_text())
        assert (got["rank"], got["world"]) == (rank, 2)
        want = native_ids(store, batch_size=8, size=16, threads=1, seed=8, shard_index=rank,
                          num_shards=2)
        assert got["ids"] == want and got["len"] == len(want) == 5
        checked += 1
    assert checked == 2
