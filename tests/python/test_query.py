"""split.select_indices: query results against a brute-force filter over every
example of the split (read back as dicts), and the errors Python sees."""

import numpy as np
import pytest

import oiv4kv
from conftest import run_cli


def brute(split, pred):
    return [i for i in range(len(split)) if pred(split[i])]


def boxes(ex, label, ok=lambda ex, i: True):
    labels = ex["bobjects"]["label"]
    return sum(1 for i in range(len(labels)) if labels[i] == label and ok(ex, i))


def common_box(split):
    counts = {}
    for i in range(len(split)):
        for label in split[i]["bobjects"]["label"]:
            counts[int(label)] = counts.get(int(label), 0) + 1
    return max(counts, key=counts.get)


def test_select_indices_matches_brute_force(store):
    train = store.split("train")
    box = common_box(train)
    not_group = lambda ex, i: ex["bobjects"]["is_group_of"][i] != 1
    cases = {
        f"box:#{box}": lambda ex: boxes(ex, box) >= 1,
        f"box:#{box}>=2": lambda ex: boxes(ex, box) >= 2,
        f"box:#{box}[!group_of]>=2": lambda ex: boxes(ex, box, not_group) >= 2,
        f"box:#{box} AND NOT group_of":
            lambda ex: boxes(ex, box) >= 1 and 1 not in list(ex["bobjects"]["is_group_of"]),
        "NOT all": lambda ex: False,
        f"NOT NOT box:#{box}": lambda ex: boxes(ex, box) >= 1,
    }
    checked = 0
    for text, pred in cases.items():
        got = train.select_indices(text)
        assert got.dtype == np.uint64
        assert list(got) == brute(train, pred), text
        checked += 1
    assert checked == len(cases)
    assert len(train.select_indices(f"box:#{box}")) > 0


def test_unknown_name_suggests_close_ones(store):
    train = store.split("train")
    name = store.vocabulary("boxable").names[common_box(train)]
    typo = name[0] + name[2] + name[1] + name[3:]
    with pytest.raises(oiv4kv.InvalidArgumentError, match="did you mean"):
        train.select_indices(f'box:"{typo}"')


def test_cli_query_agrees(store, store_path):
    train = store.split("train")
    box = common_box(train)
    out = run_cli("query", store_path, "--split", "train", f"box:#{box}", "--ids").stdout.split()
    want = [format(int(train.ids[i]), "016x") for i in train.select_indices(f"box:#{box}")]
    assert out == want and len(want) > 0
    count = run_cli("query", store_path, "--split", "train", f"box:#{box}", "--count").stdout
    assert int(count) == len(want)
