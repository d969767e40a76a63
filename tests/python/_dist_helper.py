"""Code that test_torch.py runs in processes of its own (spawned ranks), kept
out of the test module so that spawned processes import only this."""

import datetime
import json
import os

import torch
import torch.distributed

import oiv4kv.torch as ot


def names_of(loader):
    return [name for batch in loader for name in batch["image/filename"]]


def rank_main(rank, world, port, store_path, out_dir):
    """One rank of a gloo group on 127.0.0.1: reads the validation split
    through DataLoaders with 2 forked, spawned and forkserver workers, the
    dataset built after init_process_group without rank=/world_size=."""
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    args = dict(images=False, seed=4, batch_size=2)
    early = {context: ot.OpenImagesIterableDataset(store_path, "validation", **args)
             for context in ("fork", "spawn")}  # before init
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world,
                                         timeout=datetime.timedelta(seconds=60))
    result = {}
    try:
        for context in ("fork", "spawn", "forkserver"):
            ds = ot.OpenImagesIterableDataset(store_path, "validation", **args)
            loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2,
                                                 collate_fn=ot.collate, timeout=120,
                                                 multiprocessing_context=context)
            result[context] = names_of(loader)
        # Built before the group existed and iterated without a call in the
        # main process: workers learn the rank when they are started.
        for context in ("fork", "spawn"):
            loader = torch.utils.data.DataLoader(early[context], batch_size=2, num_workers=2,
                                                 collate_fn=ot.collate, timeout=120,
                                                 multiprocessing_context=context)
            result["early_" + context] = names_of(loader)
        try:
            result["len"] = len(ds)
        except TypeError:  # no len()
            result["len"] = None
    finally:
        torch.distributed.destroy_process_group()
    with open(os.path.join(out_dir, f"{rank}.json"), "w") as f:
        json.dump(result, f)


def loader_rank_main(rank, world, port, store_path, out_dir):
    """One rank of a gloo group: an oiv4kv.torch.Loader built after
    init_process_group, without rank=/world_size=; writes its image ids."""
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world,
                                         timeout=datetime.timedelta(seconds=60))
    try:
        loader = ot.Loader(store_path, "train", batch_size=8, size=16, threads=1, seed=8)
        result = {"rank": loader.rank, "world": loader.world_size, "len": len(loader),
                  "ids": [[i & (2**64 - 1) for i in b["image_id"].tolist()] for b in loader]}
    finally:
        torch.distributed.destroy_process_group()
    with open(os.path.join(out_dir, f"loader{rank}.json"), "w") as f:
        json.dump(result, f)
