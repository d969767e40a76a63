#!/usr/bin/python3
"""Augmented training batches/s: oiv4kv.torch.Loader (native threads) against
torchvision pipelines in a PyTorch DataLoader, on the same images (issue 14's
targets (a) and (b)).

Every loader makes batches of 256 RandomResizedCrop(224) + horizontal flip
p=0.5 images, uint8:
  loader           oiv4kv.torch.Loader, `threads` native threads, no workers
  imagefolder      (a) one JPEG file per image (as bench/dataloader_bench.py
                   writes them), torchvision's default_loader (PIL) +
                   RandomResizedCrop + RandomHorizontalFlip + PILToTensor, in a
                   DataLoader with `workers` worker processes
  dataset          (b) oiv4kv.torch.OpenImagesDataset (decoded tensors) +
                   the same torchvision transforms on tensors (antialias=True),
                   in a DataLoader with `workers` worker processes

Each measurement runs in a fresh process; repetitions run interleaved in a
seeded random order; the rate counts the images after the first batch, and
the wait for the first batch is reported beside it. Medians, and the
ratios the issue names: loader at 2 threads over (a) and (b) at 2 workers.

  bench/augment_bench.py --store /tmp/oiv4kv-bench/images --work /tmp/dl-bench
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataloader_bench import (median_entry, prepare, sample_indices,  # noqa: E402
                              write_benchmark_json)

BATCH_SIZE = 256
SIZE = 224


def torchvision_transform(tensor_input):
    import torchvision.transforms as T
    steps = [T.RandomResizedCrop(SIZE, antialias=True) if tensor_input
             else T.RandomResizedCrop(SIZE),
             T.RandomHorizontalFlip(0.5)]
    if not tensor_input:
        steps.append(T.PILToTensor())
    return T.Compose(steps)


def make_loader(args, indices):
    """An iterable of batches whose "image" is B x ... uint8."""
    import torch
    import oiv4kv
    import oiv4kv.torch as ot

    if args.loader == "loader":
        return ot.Loader(args.store, args.split, batch_size=BATCH_SIZE, size=(SIZE, SIZE),
                         transform="random_resized_crop", order="shuffled", seed=args.seed,
                         threads=args.workers, config=args.config, remainder="drop")

    generator = torch.Generator().manual_seed(args.seed)
    if args.loader == "imagefolder":
        records = json.load(open(os.path.join(args.work, "annotations.json")))
        transform = torchvision_transform(tensor_input=False)

        class Folder(torch.utils.data.Dataset):
            def __len__(self):
                return len(records)

            def __getitem__(self, i):
                from torchvision.datasets.folder import default_loader
                path = os.path.join(args.work, "files", records[i]["image/filename"])
                return transform(default_loader(path))

        dataset = Folder()
        sampler = torch.utils.data.RandomSampler(dataset, generator=generator)
    elif args.loader == "dataset":
        transform = torchvision_transform(tensor_input=True)
        base = ot.OpenImagesDataset(oiv4kv.Store(args.store), args.split, config=args.config)

        class Augmented(torch.utils.data.Dataset):
            def __len__(self):
                return len(base)

            def __getitem__(self, i):
                return transform(base[i]["image"].permute(2, 0, 1))

        dataset = Augmented()
        sampler = torch.utils.data.SubsetRandomSampler(indices, generator=generator)
    else:
        raise ValueError(f"unknown loader {args.loader}")
    return ({"image": images} for images in torch.utils.data.DataLoader(
        dataset, batch_size=BATCH_SIZE, sampler=sampler, num_workers=args.workers,
        drop_last=True))


def run_once(args):
    import torch
    import oiv4kv
    torch.set_num_threads(1)
    indices = sample_indices(len(oiv4kv.Store(args.store).split(args.split)), args.examples)
    want = (len(indices) // BATCH_SIZE) * BATCH_SIZE
    images = 0
    start = time.perf_counter()
    first = None
    checksum = 0
    for batch in make_loader(args, indices):
        n = batch["image"].shape[0]
        checksum += int(batch["image"][0, 0, 0, 0])  # touch the data
        images += n
        if first is None:
            first = (time.perf_counter(), images)
        if images >= want:
            break
    end = time.perf_counter()
    print(json.dumps({"images": images - first[1], "seconds": end - first[0],
                      "first_batch_s": first[0] - start,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "checksum": checksum}))


def measure(args, loader, workers):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--loader", loader,
           "--workers", str(workers), "--store", args.store, "--split", args.split,
           "--config", args.config, "--examples", str(args.examples), "--work", args.work,
           "--seed", str(args.seed)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--store", required=True)
    p.add_argument("--work", required=True, help="folder for the ImageFolder copy")
    p.add_argument("--split", default="train")
    p.add_argument("--config", default="300k")
    p.add_argument("--examples", type=int, default=1792)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="write the medians as JSON here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--loader", help=argparse.SUPPRESS)
    p.add_argument("--workers", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        run_once(args)
        return
    prepare(args.store, args.split, args.config, args.examples, args.work)
    runs = [("loader", t) for t in (1, 2)] + [(name, w) for name in ("imagefolder", "dataset")
                                              for w in (0, 1, 2)]
    schedule = [run for run in runs for _ in range(args.reps)]
    random.Random(args.seed).shuffle(schedule)
    results = {run: [] for run in runs}
    for run in runs:  # one unmeasured warm-up each (page cache, imports)
        measure(args, *run)
    for i, run in enumerate(schedule, 1):
        results[run].append(measure(args, *run))
        print(f"augment_bench: {i}/{len(schedule)} {run[0]} {run[1]}", file=sys.stderr)
    medians = {}
    print(f"| loader | threads/workers | images/s (median of {args.reps}) | first batch | "
          f"peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for run in runs:
        rates = [r["images"] / r["seconds"] for r in results[run]]
        medians[f"{run[0]}/{run[1]}"] = statistics.median(rates)
        first = statistics.median(r["first_batch_s"] for r in results[run])
        rss = statistics.median(r["peak_rss_mib"] for r in results[run])
        print(f"| {run[0]} | {run[1]} | {statistics.median(rates):.0f} | "
              f"{first * 1000:.0f} ms | {rss:.0f} |")
    print()
    def ratio(a, b):  # a run of one batch has no rate after its first batch
        return f"{medians[a] / medians[b]:.2f}" if medians[b] > 0 else "not measured"
    for name, target in (("imagefolder", 4.0), ("dataset", 2.5)):
        print(f"loader 2 threads / {name} 2 workers: {ratio('loader/2', name + '/2')} "
              f"(target >= {target})")
    print(f"loader 1 -> 2 threads: {ratio('loader/2', 'loader/1')}")
    if args.out:  # Augment/<loader>/<threads or workers>, for bench/report
        benchmarks = []
        for family, name in enumerate(("loader", "imagefolder", "dataset")):
            for instance, run in enumerate(r for r in runs if r[0] == name):
                rs = results[run]
                benchmarks.append(median_entry(
                    f"Augment/{run[0]}/{run[1]}", family, instance, rs,
                    medians[f"{run[0]}/{run[1]}"],
                    first_batch_ms=1e3 * statistics.median(r["first_batch_s"] for r in rs),
                    peak_rss_mib=max(r["peak_rss_mib"] for r in rs)))
        write_benchmark_json(args.out, benchmarks, "bench/augment_bench.py",
                             examples=args.examples, batch_size=BATCH_SIZE, size=SIZE,
                             store=args.store, config=args.config)


if __name__ == "__main__":
    main()
