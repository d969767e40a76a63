#!/usr/bin/env python3
"""Where the label index's bytes go, and what other encodings would take.

Reads `oiv4-kv dump STORE --split S` JSON lines (one file per split), rebuilds
each split's two posting lists (boxes: examples and box counts per boxable
class; image-level: examples and best confidence 1..10 per class, negatives
left out) exactly as store/core/label_index.cc does, and prints, per list:
  - the version-1 size (delta + varint, the first format), split into
    directory, gaps, count flags/counts and confidences;
  - the version-2 size (Elias-Fano, store/core/label_index.h), which must
    equal what `oiv4-kv index STORE` reports;
  - candidate encodings' sizes, each also after zstd -3 (the meta family's
    compression: RocksDB keeps a block compressed only if it saves >= 12.5%).
Sizes only; nothing is timed.

  oiv4-kv synth DL --images 30000 --max-side 16 --archives dir
  oiv4-kv convert --source DL --store S --config 300k --on-error skip
  for s in train validation test; do oiv4-kv dump S --split $s > $s.jsonl; done
  python3 bench/label_index_size.py --annotations-bytes N train.jsonl validation.jsonl test.jsonl
"""
import argparse
import json
import math
import subprocess
from collections import defaultdict


def varint_len(v):
    n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


def put_varint(v, out):
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def zstd_len(data):
    return len(subprocess.run(["zstd", "-3", "-c", "-q"], input=bytes(data),
                              capture_output=True, check=True).stdout)


def load(path):
    """Returns (num_examples, boxes {label: [(index, count)]}, image {label: [(index, conf)]})."""
    boxes, image = defaultdict(list), defaultdict(list)
    n = 0
    with open(path) as f:
        for index, line in enumerate(f):
            r = json.loads(line)
            n += 1
            counts = defaultdict(int)
            for label in r.get("bobjects", {}).get("label", []):
                counts[label] += 1
            for label in sorted(counts):
                boxes[label].append((index, counts[label]))
            best = {}
            o = r.get("objects", {})
            for label, c in zip(o.get("label", []), o.get("confidence", [])):
                if c > 0:
                    best[label] = max(best.get(label, 0), c)
            for label in sorted(best):
                image[label].append((index, best[label]))
    return n, boxes, image


def gaps(entries):
    prev = -1
    for index, value in entries:
        yield index - prev - 1, value
        prev = index


def v1(n, lists, num_labels, kind):
    """The version-1 value, byte for byte, and its breakdown."""
    out = bytearray(b"L\x01" + bytes([kind]))
    put_varint(n, out)
    put_varint(num_labels, out)
    parts = defaultdict(int)
    body = bytearray()
    for label in range(num_labels):
        entries = lists.get(label, [])
        p = bytearray()
        for gap, value in gaps(entries):
            if kind == 0:
                put_varint(gap << 1 | (value > 1), p)
                parts["gaps"] += varint_len(gap)
                parts["count flag bits"] += varint_len(gap << 1 | (value > 1)) - varint_len(gap)
                if value > 1:
                    put_varint(value - 2, p)
                    parts["counts > 1"] += varint_len(value - 2)
            else:
                put_varint(gap * 11 + value, p)
                parts["gaps"] += varint_len(gap)
                parts["confidences"] += varint_len(gap * 11 + value) - varint_len(gap)
        add_class(entries, p, out, body)
    parts["header + directory"] = len(out)
    return out + body, parts


class BitWriter:
    def __init__(self):
        self.bits = 0
        self.n = 0

    def put(self, v, width):
        self.bits |= v << self.n
        self.n += width

    def bytes(self):
        return self.bits.to_bytes((self.n + 7) // 8, "little")


def put_values(entries, kind, p):
    """Both packed encodings' values: boxes: nothing if every count is 1, else
    a bitmap of counts > 1 and varint(count - 2) each; image-level: 4 bits a
    confidence (1..10 -> 0..9)."""
    bw = BitWriter()
    if kind == 0:
        if any(c > 1 for _, c in entries):
            for _, c in entries:
                bw.put(1 if c > 1 else 0, 1)
            p += bw.bytes()
            for _, c in entries:
                if c > 1:
                    put_varint(c - 2, p)
    else:
        for _, c in entries:
            bw.put(c - 1, 4)
        p += bw.bytes()


def add_class(entries, p, out, body):
    """A class's directory entry (count, and byte length if any) and its bytes."""
    put_varint(len(entries), out)
    if entries:
        put_varint(len(p), out)
    body += p


def bitpacked(n, lists, num_labels, kind):
    """Blocks of 128 entries: a width byte, the gaps at that width; values as
    boxes: one flag byte per block, and if any count > 1 a bitmap of them plus
    varint(count - 2) each; image-level: 4 bits per confidence (1..10 -> 0..9).
    A class at least 1/8 dense is a bitmap of the split instead of its gaps."""
    out = bytearray()
    put_varint(n, out)
    put_varint(num_labels, out)
    body = bytearray()
    for label in range(num_labels):
        entries = lists.get(label, [])
        p = bytearray()
        dense = len(entries) * 8 >= n and n > 0
        if dense:
            bw = BitWriter()
            bitmap = 0
            for index, _ in entries:
                bitmap |= 1 << index
            p += bitmap.to_bytes((n + 7) // 8, "little")
        g = list(gaps(entries))
        for start in range(0, len(g), 128):
            block = g[start:start + 128]
            if not dense:
                width = max(v.bit_length() for v, _ in block)
                p.append(width)
                bw = BitWriter()
                for gap, _ in block:
                    bw.put(gap, width)
                p += bw.bytes()
            if kind == 0:
                p.append(1 if any(c > 1 for _, c in block) else 0)
            put_values(block, kind, p)
        add_class(entries, p, out, body)
    return out + body


def ef_low_bits(n, count):
    """Elias-Fano's low bits per entry for `count` entries below `n`."""
    return max(0, (n // count).bit_length() - 1) if count else 0


def elias_fano(n, lists, num_labels, kind):
    """Version 2, byte for byte (store/core/label_index.h): each class's
    Elias-Fano indices (low bits packed, then the unary high parts), then its
    values: boxes: nothing if every count is 1, else a bitmap of counts > 1
    and varint(count - 2) each; image-level: 4 bits a confidence."""
    out = bytearray(b"L\x02" + bytes([kind]))
    put_varint(n, out)
    put_varint(num_labels, out)
    body = bytearray()
    for label in range(num_labels):
        entries = lists.get(label, [])
        p = bytearray()
        if entries:
            low = ef_low_bits(n, len(entries))
            lows, highs = BitWriter(), 0
            for i, (index, _) in enumerate(entries):
                lows.put(index & ((1 << low) - 1), low)
                highs |= 1 << ((index >> low) + i)
            p += lows.bytes()
            p += highs.to_bytes((len(entries) + ((n - 1) >> low) + 1 + 7) // 8, "little")
            put_values(entries, kind, p)
        add_class(entries, p, out, body)
    return out + body


def elias_fano_bits(n, lists, num_labels, kind):
    """Sizes, not encodings: (Elias-Fano's n * (2 + ceil(log2(N / n))) bits for
    each class's indices, log2 C(N, n) bits (the least any lossless encoding of
    an arbitrary n-subset of N can take), the values' empirical entropy), in bytes."""
    bits = 0
    exact = 0.0
    hist = defaultdict(int)
    total = 0
    for label in range(num_labels):
        entries = lists.get(label, [])
        if entries:
            bits += len(entries) * (2 + max(0, math.ceil(math.log2(n / len(entries)))))
            exact += (math.lgamma(n + 1) - math.lgamma(len(entries) + 1)
                      - math.lgamma(n - len(entries) + 1)) / math.log(2)
        for _, v in entries:
            hist[min(v, 3) if kind == 0 else v] += 1
            total += 1
    entropy = -sum(c / total * math.log2(c / total) for c in hist.values()) if total else 0
    return bits // 8, int(exact / 8), int(entropy * total / 8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dumps", nargs="+", help="oiv4-kv dump JSON lines, one file per split")
    ap.add_argument("--num-boxable", type=int, default=601)
    ap.add_argument("--num-all", type=int, default=19995)
    ap.add_argument("--annotations-bytes", type=int, default=0,
                    help="the annotations family's size, for percentages")
    args = ap.parse_args()
    totals = defaultdict(int)
    for path in args.dumps:
        n, boxes, image = load(path)
        for kind, lists, num in ((0, boxes, args.num_boxable), (1, image, args.num_all)):
            name = f"{path} {'boxes' if kind == 0 else 'image-level'}"
            value, parts = v1(n, lists, num, kind)
            entries = sum(len(e) for e in lists.values())
            packed = bitpacked(n, lists, num, kind)
            ef = elias_fano(n, lists, num, kind)
            ef_index, bound_index, value_entropy = elias_fano_bits(n, lists, num, kind)
            row = {"v1": len(value), "v1+zstd": zstd_len(value),
                   "bitpacked": len(packed), "bitpacked+zstd": zstd_len(packed),
                   "v2 (elias-fano)": len(ef), "v2+zstd": zstd_len(ef),
                   "Elias-Fano + value entropy": ef_index + value_entropy,
                   "bound: log2 C(N,n) + values": bound_index + value_entropy,
                   "bound without values": bound_index}
            print(f"{name}: {n} examples, {entries} entries")
            for k, v in parts.items():
                print(f"  v1 {k:20s} {v:10d} ({100.0 * v / len(value):.1f}%)")
            for k, v in row.items():
                totals[k] += v
                print(f"  {k:28s} {v:10d}")
    print("all splits and lists:")
    for k, v in totals.items():
        pct = f" = {100.0 * v / args.annotations_bytes:.2f}% of annotations" if args.annotations_bytes else ""
        print(f"  {k:28s} {v:10d}{pct}")


if __name__ == "__main__":
    main()
