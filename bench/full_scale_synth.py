#!/usr/bin/python3
"""Writes a synthetic Open Images V4 download at the real dataset's scale.

The real split sizes (1,743,042 / 41,620 / 125,436 images) times --scale, the
real annotation volume per image (Poisson means: 8.4 boxes, 16 human and 45
machine image labels), rows sorted by ImageID as downloaded, and tiny images
(the JPEGs of a small `oiv4-kv synth` download, --template, reused under new
ids) in uncompressed tar archives: train_0.tar ... train_f.tar by the id's
first hex digit, validation.tar, test.tar. The class lists (and TFDS's lists)
are the template's. Used by bench/full_scale.sh.

  bench/full_scale_synth.py --template T --out DIR [--scale 0.01] [--seed 1]
"""

import argparse
import io
import os
import shutil
import sys
import tarfile

import numpy as np

REAL_IMAGES = {"train": 1_743_042, "validation": 41_620, "test": 125_436}
BOXES, HUMAN, MACHINE = 8.4, 16.0, 45.0  # rows per image (means)
BLOCK = 20_000  # images formatted at a time


def read_mids(path, csv):
    with open(path) as f:
        return np.array([line.split(",")[0].strip() if csv else line.strip()
                         for line in f if line.strip()])


def template_jpegs(template):
    jpegs = []
    for name in sorted(os.listdir(template)):
        if not name.endswith(".tar"):
            continue
        with tarfile.open(os.path.join(template, name)) as t:
            for m in t.getmembers():
                if m.isfile() and m.name.endswith(".jpg"):
                    jpegs.append(t.extractfile(m).read())
    if not jpegs:
        sys.exit(f"full_scale_synth: no .jpg in the .tar archives of {template} "
                 "(make it with `oiv4-kv synth ... --archives tar`)")
    return jpegs


def per_image(rng, ids_hex, mean):
    """Each image's row count, and its ids repeated that many times."""
    counts = rng.poisson(mean, len(ids_hex))
    return counts, np.repeat(ids_hex, counts)


def distinct_labels(rng, counts, n):
    """Per image, `counts[i]` distinct label indices of n (a run from a random start)."""
    total = int(counts.sum())
    starts = np.repeat(rng.integers(0, n, len(counts)), counts)
    firsts = np.repeat(np.cumsum(counts) - counts, counts)
    return (starts + (np.arange(total) - firsts)) % n


def write_csvs(out, split, ids_hex, rng, trainable, boxable):
    conf_human = np.array(["0", "1"])
    conf_machine = np.array([f"{c / 100:g}" for c in range(50, 101)])
    coord = np.array([f"{c / 1000:.6f}" for c in range(1001)])
    flag = np.array(["0", "1", "-1"])
    files = {
        "human": open(os.path.join(out, f"{split}-annotations-human-imagelabels.csv"), "w"),
        "machine": open(os.path.join(out, f"{split}-annotations-machine-imagelabels.csv"), "w"),
        "bbox": open(os.path.join(out, f"{split}-annotations-bbox.csv"), "w"),
    }
    files["human"].write("ImageID,Source,LabelName,Confidence\n")
    files["machine"].write("ImageID,Source,LabelName,Confidence\n")
    files["bbox"].write("ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,"
                        "IsTruncated,IsGroupOf,IsDepiction,IsInside\n")
    rows = {"human": 0, "machine": 0, "bbox": 0}
    for start in range(0, len(ids_hex), BLOCK):
        block = ids_hex[start:start + BLOCK]
        for kind, mean, conf in (("human", HUMAN, conf_human), ("machine", MACHINE, conf_machine)):
            counts, ids = per_image(rng, block, mean)
            labels = trainable[distinct_labels(rng, counts, len(trainable))]
            confs = conf[rng.integers(0, len(conf), len(ids))]
            source = "verification" if kind == "human" else "machine"
            files[kind].write("".join(f"{i},{source},{l},{c}\n"
                                      for i, l, c in zip(ids, labels, confs)))
            rows[kind] += len(ids)
        counts, ids = per_image(rng, block, BOXES)
        n = len(ids)
        labels = boxable[rng.integers(0, len(boxable), n)]
        x = np.sort(rng.integers(0, 1001, (n, 2)), axis=1)
        y = np.sort(rng.integers(0, 1001, (n, 2)), axis=1)
        f = flag[rng.integers(0, 3, (n, 5))]
        files["bbox"].write("".join(
            f"{i},xclick,{l},1,{coord[x0]},{coord[x1]},{coord[y0]},{coord[y1]},"
            f"{a},{b},{c},{d},{e}\n"
            for i, l, (x0, x1), (y0, y1), (a, b, c, d, e) in zip(ids, labels, x, y, f)))
        rows["bbox"] += n
    for f in files.values():
        f.close()
    return rows


def write_archive(path, folder, ids_hex, jpegs):
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
        for k, i in enumerate(ids_hex):
            data = jpegs[k % len(jpegs)]
            info = tarfile.TarInfo(f"{folder}/{i}.jpg")
            info.size = len(data)
            info.mtime = 1525046400
            t.addfile(info, io.BytesIO(data))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", required=True,
                   help="a small `oiv4-kv synth --archives tar` download (class lists, JPEGs)")
    p.add_argument("--out", required=True, help="output folder (created; must not exist)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="fraction of the real split sizes (default 1: the whole dataset)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if not 0 < a.scale <= 1:
        sys.exit("full_scale_synth: --scale must be in (0, 1]")
    os.makedirs(a.out)
    for name in ("class-descriptions.csv", "class-descriptions-boxable.csv",
                 "classes-trainable.txt"):
        shutil.copy(os.path.join(a.template, name), a.out)
    shutil.copytree(os.path.join(a.template, "tfds_lists"), os.path.join(a.out, "tfds_lists"))
    trainable = read_mids(os.path.join(a.template, "classes-trainable.txt"), csv=False)
    boxable = read_mids(os.path.join(a.template, "class-descriptions-boxable.csv"), csv=True)
    jpegs = template_jpegs(a.template)
    rng = np.random.default_rng(a.seed)

    sizes = {s: max(1, round(n * a.scale)) for s, n in REAL_IMAGES.items()}
    total = sum(sizes.values())
    ids = np.unique(rng.integers(0, 2**64, int(total * 1.01) + 16, dtype=np.uint64))
    ids = rng.permutation(ids)[:total]
    if len(ids) < total:
        sys.exit("full_scale_synth: too few distinct ids drawn")
    at = 0
    summary = {}
    for split, n in sizes.items():
        split_ids = np.sort(ids[at:at + n])
        at += n
        ids_hex = np.array([f"{int(i):016x}" for i in split_ids])
        rows = write_csvs(a.out, split, ids_hex, rng, trainable, boxable)
        if split == "train":
            digit = np.array([h[0] for h in ids_hex])
            for d in "0123456789abcdef":
                write_archive(os.path.join(a.out, f"train_{d}.tar"), f"train_{d}",
                              ids_hex[digit == d], jpegs)
        else:
            write_archive(os.path.join(a.out, f"{split}.tar"), split, ids_hex, jpegs)
        summary[split] = (n, rows)
        print(f"{split}: {n} images, {rows['bbox']} boxes, {rows['human']} human and "
              f"{rows['machine']} machine labels", flush=True)


if __name__ == "__main__":
    main()
