#!/usr/bin/python3
"""Examples/s of a PyTorch DataLoader over oiv4-kv against the ways people
keep images today, on the same images and annotations.

Loaders (every one yields the same TFDS-shaped dict of tensors: "image" H x W
x 3 uint8 decoded RGB, annotations in TFDS's dtypes; batches of 32 through
oiv4kv.torch.collate; the same shuffled order of the same examples):
  oiv4kv            oiv4kv.torch.OpenImagesDataset (map-style, random sampler)
  oiv4kv_scan       oiv4kv.torch.OpenImagesIterableDataset (shuffled scan),
                    cut at the same number of examples
  imagefolder_pil   one JPEG file per image, loaded by torchvision's
                    default_loader (PIL, convert("RGB")), annotations from one
                    JSON file held in memory: torchvision ImageFolder's way
  lmdb_pil          one LMDB record per example (pickled annotation arrays and
                    JPEG bytes, python3-lmdb), decoded by PIL
  lmdb_oiv4kv       the same records, decoded by oiv4kv.decode: storage alone

Each measurement runs in a fresh process (so peak RSS is its own) after one
unmeasured warm-up pass of every loader (page cache warm for all); the
repetitions run interleaved in a seeded random order. The rate counts the
examples after the first batch (steady state, as over an epoch of a real
split); the wait for the first batch (workers starting, each opening the
store, first decodes) is reported beside it. Output: a table with
ratios, and with --out a Google Benchmark-style JSON that bench/report reads
(runs "DataLoader/<loader>/<workers>", medians).

  bench/dataloader_bench.py --store /tmp/oiv4kv-bench/images --work /tmp/dl-bench
"""

import argparse
import io
import json
import os
import pickle
import random
import resource
import socket
import statistics
import subprocess
import sys
import time

LOADERS = ("oiv4kv", "oiv4kv_scan", "imagefolder_pil", "lmdb_pil", "lmdb_oiv4kv")
BATCH_SIZE = 32


# ---- the data every loader reads ----

def sample_indices(num_examples, count):
    """`count` example indices spread evenly over the split."""
    count = min(count, num_examples)
    return [i * num_examples // count for i in range(count)]


def plain_annotations(example):
    """An example's annotations as numpy arrays the baselines store."""
    return {key: {name: array.copy() for name, array in example[key].items()}
            for key in ("objects", "objects_trainable", "bobjects")}


def prepare(store_path, split_name, config, count, work):
    """Writes the files and the LMDB the baselines read, once per
    (store, split, config, count)."""
    import lmdb
    import oiv4kv

    stamp_path = os.path.join(work, "prepared.json")
    stamp = {"store": os.path.abspath(store_path), "split": split_name, "config": config,
             "count": count}
    if os.path.exists(stamp_path) and json.load(open(stamp_path)) == stamp:
        return
    os.makedirs(os.path.join(work, "files"), exist_ok=True)
    split = oiv4kv.Store(store_path).split(split_name)
    indices = sample_indices(len(split), count)
    annotations = []
    env = lmdb.open(os.path.join(work, "lmdb"), map_size=1 << 36, subdir=True)
    with env.begin(write=True) as txn:
        for i in indices:
            example = split[i]
            name = example["image/filename"]
            encoded = bytes(split.image(i, config))
            with open(os.path.join(work, "files", name), "wb") as f:
                f.write(encoded)
            arrays = plain_annotations(example)
            annotations.append({"image/filename": name, **{
                key: {field: values.tolist() for field, values in group.items()}
                for key, group in arrays.items()}})
            record = {"image/filename": name, "image": encoded, **arrays}
            txn.put(name.encode(), pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    env.close()
    with open(os.path.join(work, "annotations.json"), "w") as f:
        json.dump(annotations, f)
    with open(stamp_path, "w") as f:
        json.dump(stamp, f)


# ---- the loaders ----

def make_dataset(loader, store, split_name, config, indices, work, seed):
    """(dataset, sampler or None) of one loader over the examples at
    `indices`; `store` is an open oiv4kv.Store."""
    import numpy as np
    import torch
    import oiv4kv
    import oiv4kv.torch as ot

    dtypes = {"label": np.int64, "confidence": np.int32, "source": np.int64, "bbox": np.float32}

    def annotation_tensors(record):
        """Lists or arrays -> tensors in TFDS's dtypes (as oiv4kv.torch gives)."""
        out = {}
        for key in ("objects", "objects_trainable", "bobjects"):
            out[key] = {name: torch.from_numpy(np.asarray(values, dtype=dtypes.get(name, np.int8)))
                        for name, values in record[key].items()}
        out["bobjects"]["bbox"] = out["bobjects"]["bbox"].reshape(-1, 4)
        return out

    def pil_rgb(source):
        from PIL import Image
        with Image.open(source) as image:
            return torch.from_numpy(np.array(image.convert("RGB")))

    generator = torch.Generator().manual_seed(seed)
    if loader == "oiv4kv":
        ds = ot.OpenImagesDataset(store, split_name, config=config)
        return ds, torch.utils.data.SubsetRandomSampler(indices, generator=generator)
    if loader == "oiv4kv_scan":
        ds = ot.OpenImagesIterableDataset(store, split_name, config=config, seed=seed,
                                          batch_size=BATCH_SIZE)
        return ds, None

    class FolderDataset(torch.utils.data.Dataset):
        def __init__(self):
            self.records = json.load(open(os.path.join(work, "annotations.json")))

        def __len__(self):
            return len(self.records)

        def __getitem__(self, i):
            from torchvision.datasets.folder import default_loader
            record = self.records[i]
            path = os.path.join(work, "files", record["image/filename"])
            image = torch.from_numpy(np.array(default_loader(path)))
            return {"image/filename": record["image/filename"], "image": image,
                    **annotation_tensors(record)}

    class LmdbDataset(torch.utils.data.Dataset):
        def __init__(self, decode):
            self.decode = decode
            self.keys = [r["image/filename"].encode()
                         for r in json.load(open(os.path.join(work, "annotations.json")))]
            self.env = None  # opened in each worker: LMDB handles must not cross fork

        def __len__(self):
            return len(self.keys)

        def __getitem__(self, i):
            import lmdb
            if self.env is None:
                self.env = lmdb.open(os.path.join(work, "lmdb"), readonly=True, lock=False,
                                     readahead=False, subdir=True)
            with self.env.begin(buffers=True) as txn:
                record = pickle.loads(txn.get(self.keys[i]))
            if self.decode == "pil":
                image = pil_rgb(io.BytesIO(record["image"]))
            else:
                image = torch.from_numpy(oiv4kv.decode(record["image"]))
            return {"image/filename": record["image/filename"], "image": image,
                    **annotation_tensors(record)}

    # The baselines hold only the sampled examples: the same order over them.
    positions = list(range(len(indices)))
    sampler = torch.utils.data.SubsetRandomSampler(positions, generator=generator)
    if loader == "imagefolder_pil":
        return FolderDataset(), sampler
    if loader == "lmdb_pil":
        return LmdbDataset("pil"), sampler
    if loader == "lmdb_oiv4kv":
        return LmdbDataset("oiv4kv"), sampler
    raise ValueError(f"unknown loader {loader}")


def run_once(args):
    """One measurement in this process: prints a JSON line."""
    import torch
    import oiv4kv
    import oiv4kv.torch as ot

    torch.set_num_threads(1)
    store = oiv4kv.Store(args.store)  # opened once: each open indexes the annotations
    indices = sample_indices(len(store.split(args.split)), args.examples)
    dataset, sampler = make_dataset(args.loader, store, args.split, args.config, indices,
                                    args.work, args.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH_SIZE, sampler=sampler,
                                         num_workers=args.workers, collate_fn=ot.collate)
    want = len(indices)
    examples = 0
    start = time.perf_counter()
    first = None  # (time, examples) when the first batch arrived
    for batch in loader:
        examples += len(batch["image/filename"])
        if first is None:
            first = (time.perf_counter(), examples)
        if examples >= want:
            break
    end = time.perf_counter()
    del loader
    # The rate after the first batch: what an epoch of a real split sees once
    # the workers run; the wait for the first batch (worker start, store
    # open, first decodes) is reported beside it.
    print(json.dumps({
        "examples": examples - first[1], "seconds": end - first[0],
        "first_batch_s": first[0] - start,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))


# ---- the driver ----

def measure(args, loader, workers, examples=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--loader", loader,
           "--workers", str(workers), "--store", args.store, "--split", args.split,
           "--config", args.config, "--examples", str(examples or args.examples),
           "--work", args.work, "--seed", str(args.seed)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])



def median_entry(name, family, instance, runs, rate, **counters):
    """A Google Benchmark "_median" aggregate row (what bench/report reads) for
    `runs` (dicts with "seconds") whose median rate is `rate` items/s."""
    return {"name": f"{name}_median", "run_name": name, "run_type": "aggregate",
            "aggregate_name": "median", "repetitions": len(runs), "threads": 1,
            "family_index": family, "per_family_instance_index": instance,
            "iterations": 1, "real_time": statistics.median(r["seconds"] for r in runs),
            "time_unit": "s", "items_per_second": rate, **counters}


def write_benchmark_json(path, benchmarks, program, **context):
    """Writes rows in Google Benchmark's JSON shape with this machine's context."""
    mhz = next((line.split(":")[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("cpu MHz")), "?")
    context = {"host_name": socket.gethostname(), "num_cpus": os.cpu_count(),
               "mhz_per_cpu": round(float(mhz)) if mhz != "?" else mhz,
               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "library_build_type": f"release (Python: {program})", **context}
    with open(path, "w") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f, indent=1)

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", required=True, help="a store with the config's images")
    p.add_argument("--split", default="train")
    p.add_argument("--config", default="300k")
    p.add_argument("--examples", type=int, default=1500, help="examples per measurement")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--loaders", nargs="+", default=list(LOADERS), choices=LOADERS)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--work", required=True, help="folder for the files and LMDB baselines")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="write Google Benchmark-style JSON here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--loader", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.workers = args.workers[0]
        return run_once(args)

    prepare(args.store, args.split, args.config, args.examples, args.work)
    for loader in args.loaders:  # warm-up: page cache, .pyc files
        measure(args, loader, 0, examples=max(BATCH_SIZE, args.examples // 4))
    runs = [(loader, workers) for loader in args.loaders for workers in args.workers]
    results = {run: [] for run in runs}
    order = random.Random(args.seed)
    for rep in range(args.reps):
        order.shuffle(runs)
        for loader, workers in runs:
            r = measure(args, loader, workers)
            results[(loader, workers)].append(r)
            print(f"rep {rep + 1}/{args.reps} {loader:16s} workers={workers}: "
                  f"{r['examples'] / r['seconds']:7.1f} ex/s", file=sys.stderr)

    rate = {run: statistics.median(r["examples"] / r["seconds"] for r in rs)
            for run, rs in results.items()}
    print(f"\n{'loader':16s} {'workers':>7s} {'ex/s':>8s} {'CV':>5s} {'1st batch':>9s} {'peak RSS':>9s} "
          f"{'worker RSS':>10s}  vs imagefolder_pil  vs lmdb_pil")
    for loader in args.loaders:
        for workers in args.workers:
            rs = results[(loader, workers)]
            rates = [r["examples"] / r["seconds"] for r in rs]
            cv = statistics.pstdev(rates) / statistics.mean(rates)
            base = [rate.get((b, workers)) for b in ("imagefolder_pil", "lmdb_pil")]
            ratios = "  ".join(f"{rate[(loader, workers)] / b:17.2f}x" if b else f"{'-':>18s}"
                               for b in base)
            first_ms = 1e3 * statistics.median(r["first_batch_s"] for r in rs)
            print(f"{loader:16s} {workers:7d} {rate[(loader, workers)]:8.1f} {cv:5.0%} "
                  f"{first_ms:7.0f}ms "
                  f"{max(r['peak_rss_mib'] for r in rs):7.0f}Mi "
                  f"{max(r['worker_peak_rss_mib'] for r in rs):8.0f}Mi  {ratios}")

    if args.out:
        benchmarks = []
        for family, loader in enumerate(args.loaders):
            for instance, workers in enumerate(args.workers):
                rs = results[(loader, workers)]
                benchmarks.append(median_entry(
                    f"DataLoader/{loader}/{workers}", family, instance, rs,
                    rate[(loader, workers)],
                    first_batch_ms=1e3 * statistics.median(r["first_batch_s"] for r in rs),
                    peak_rss_mib=max(r["peak_rss_mib"] for r in rs),
                    worker_peak_rss_mib=max(r["worker_peak_rss_mib"] for r in rs)))
        write_benchmark_json(args.out, benchmarks, "bench/dataloader_bench.py",
                             examples=args.examples, batch_size=BATCH_SIZE, store=args.store,
                             config=args.config)


if __name__ == "__main__":
    sys.exit(main())
