"""A Python reader for tests/tools/readers_during_convert_test.cc (issue 17
item 5): opens the store a writer is converting, `opens` times at random
(seeded) moments, and checks each open against the generator's record.

Usage: read_during_convert.py CURRENT OPENS SEED EXPECTED_JSON OUT_JSONL

CURRENT names the store being written. Each open writes one JSON line:
{"store", "outcome": "open" | "refused", "message", "crc": [[config, crc32
chain of its images], ...], "checked", "errors": [...]}. An open either raises
oiv4kv.Error (a refusal; the C++ test judges its message) or must show every
example as recorded, the `original` images byte for byte, and raise
NotSupportedError for a config not yet committed. Any other exception is an
error of that open.
"""

import json
import random
import sys
import time
import zlib

import oiv4kv

WRITER_ORDER = ("original", "300k", "200k")
SPLITS = ("train", "validation", "test")


def check_open(store, expected, errors):
    checked = 0
    for split_name in SPLITS:
        split = store.split(split_name)
        want = expected["ids"].get(split_name, [])
        ids = [int(i) for i in split.ids]
        if ids != want:
            errors.append(f"{store.path} {split_name}: ids {len(ids)} differ from the record's {len(want)}")
            continue
        for index, image_id in enumerate(ids):
            e = expected["examples"][f"{split_name}:{image_id}"]
            ex = split[index]
            if ex["image/filename"] != e["filename"]:
                errors.append(f"{store.path} {image_id}: filename {ex['image/filename']}")
            for key in ("objects", "objects_trainable"):
                for name in ("label", "confidence", "source"):
                    if ex[key][name].tolist() != e[key][name]:
                        errors.append(f"{store.path} {image_id}: {key}/{name} differs")
            if ex["bobjects"]["label"].tolist() != e["bobjects"]["label"]:
                errors.append(f"{store.path} {image_id}: bobjects/label differs")
            if ex["bobjects"]["bbox"].reshape(-1, 4).tolist() != e["bobjects"]["bbox"]:
                errors.append(f"{store.path} {image_id}: bobjects/bbox differs")
            checked += 1
    configs = list(store.configs)
    if configs != list(WRITER_ORDER[:len(configs)]):
        errors.append(f"{store.path}: configs {configs} are not a prefix of {WRITER_ORDER}")
    crc = []  # [config, crc32 chain] in the writer's order
    for config in WRITER_ORDER:
        if config not in configs:
            try:
                store.split("train").image(0, config)
                errors.append(f"{store.path}: {config} is not complete but its image was returned")
            except oiv4kv.NotSupportedError:
                pass
            continue
        c = zlib.crc32(b"")
        for split_name in SPLITS:
            split = store.split(split_name)
            ids = [int(i) for i in split.ids]
            for index, image_id in enumerate(ids):
                data = split.image(index, config)
                c = zlib.crc32(data, c)
                if config == "original":
                    with open(expected["examples"][f"{split_name}:{image_id}"]["original"], "rb") as f:
                        if f.read() != bytes(data):
                            errors.append(f"{store.path} {image_id}: original bytes differ")
                    checked += 1
        crc.append([config, c])
    return crc, checked


def main():
    current, opens, seed, expected_path, out_path = sys.argv[1:6]
    with open(expected_path) as f:
        expected = json.load(f)
    rng = random.Random(int(seed))
    with open(out_path, "w") as out:
        for _ in range(int(opens)):
            time.sleep(rng.random() * 0.05)
            with open(current) as f:
                path = f.read().strip()
            line = {"store": path, "errors": []}
            try:
                store = oiv4kv.Store(path)
            except oiv4kv.Error as e:
                line.update(outcome="refused", message=str(e))
            except Exception as e:  # noqa: BLE001 - anything else is an error of this open
                line.update(outcome="refused", message=str(e),
                            errors=[f"{path}: {type(e).__name__}: {e}"])
            else:
                try:
                    crc, checked = check_open(store, expected, line["errors"])
                    line.update(outcome="open", crc=crc, checked=checked)
                except Exception as e:  # noqa: BLE001
                    line.update(outcome="open", crc=[],
                                errors=[f"{path}: reading raised {type(e).__name__}: {e}"])
                del store
            out.write(json.dumps(line) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
