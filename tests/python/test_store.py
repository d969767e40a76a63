"""oiv4kv.Store, Split and Vocabulary against two independent references:
the download's CSVs read here with the csv module (the SPEC's rules written
out in Python), and the C++ `oiv4-kv dump` output."""

import csv
import json
from collections import defaultdict

import numpy as np
import pytest

import oiv4kv
from conftest import run_cli

SOURCES = ["verification", "crowdsource-verification", "machine", "freeform", "xclick",
           "activemil"]
SPLITS = ("train", "validation", "test")


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def expected_examples(download, split):
    """{image id hex: TFDS example as lists}, from the CSVs, labels numbered
    by the download's class lists (the store was converted without
    --label-lists)."""
    all_mids = [row[0] for row in read_rows(download / "class-descriptions.csv")]
    trainable = [line.strip() for line in open(download / "classes-trainable.txt") if line.strip()]
    boxable = [row[0] for row in read_rows(download / "class-descriptions-boxable.csv")]
    all_index = {mid: i for i, mid in enumerate(all_mids)}
    trainable_index = {mid: i for i, mid in enumerate(trainable)}
    boxable_index = {mid: i for i, mid in enumerate(boxable)}

    def empty_labels():
        return {"label": [], "confidence": [], "source": []}

    examples = defaultdict(lambda: {
        "objects": empty_labels(), "objects_trainable": empty_labels(),
        "bobjects": {"label": [], "source": [], "bbox": [], "is_occluded": [], "is_truncated": [],
                     "is_group_of": [], "is_depiction": [], "is_inside": []}})
    for kind in ("human", "machine"):
        rows = read_rows(download / f"{split}-annotations-{kind}-imagelabels.csv")
        for image_id, source, mid, confidence in rows[1:]:
            ex = examples[image_id]
            conf = int(float(confidence) * 10)  # SPEC: double, x10, truncate
            ex["objects"]["label"].append(all_index[mid])
            ex["objects"]["confidence"].append(conf)
            ex["objects"]["source"].append(SOURCES.index(source))
            if mid in trainable_index:
                ex["objects_trainable"]["label"].append(trainable_index[mid])
                ex["objects_trainable"]["confidence"].append(conf)
                ex["objects_trainable"]["source"].append(SOURCES.index(source))
    rows = read_rows(download / f"{split}-annotations-bbox.csv")
    header = rows[0]
    for row in rows[1:]:
        r = dict(zip(header, row))
        b = examples[r["ImageID"]]["bobjects"]
        b["label"].append(boxable_index[r["LabelName"]])
        b["source"].append(SOURCES.index(r["Source"]))
        b["bbox"].append([np.float32(r[k]) for k in ("YMin", "XMin", "YMax", "XMax")])
        for flag, column in (("is_occluded", "IsOccluded"), ("is_truncated", "IsTruncated"),
                             ("is_group_of", "IsGroupOf"), ("is_depiction", "IsDepiction"),
                             ("is_inside", "IsInside")):
            b[flag].append(int(r[column]))
    return examples


def as_lists(example):
    """The store's example with arrays turned into lists."""
    out = {"image/filename": example["image/filename"]}
    for key in ("objects", "objects_trainable", "bobjects"):
        out[key] = {name: arr.tolist() for name, arr in example[key].items()}
    return out


@pytest.mark.parametrize("split_name", SPLITS)
def test_examples_match_the_download_csvs(store, download, split_name):
    expected = expected_examples(download, split_name)
    split = store.split(split_name)
    assert len(split) > 0
    for i in range(len(split)):
        got = split[i]
        image_id = got["image/filename"][:-4]
        want = expected[image_id]  # an image without rows: empty sequences
        for key in ("objects", "objects_trainable"):
            for name in ("label", "confidence", "source"):
                assert got[key][name].tolist() == want[key][name], (image_id, key, name)
        b = got["bobjects"]
        assert b["bbox"].shape == (len(want["bobjects"]["label"]), 4)
        assert b["bbox"].dtype == np.float32
        np.testing.assert_array_equal(b["bbox"], np.array(want["bobjects"]["bbox"],
                                                          dtype=np.float32).reshape(-1, 4))
        for name in ("label", "source", "is_occluded", "is_truncated", "is_group_of",
                     "is_depiction", "is_inside"):
            assert b[name].tolist() == want["bobjects"][name], (image_id, name)


@pytest.mark.parametrize("split_name", SPLITS)
def test_examples_match_cpp_dump(store, store_path, split_name):
    lines = run_cli("dump", store_path, "--split", split_name).stdout.splitlines()
    split = store.split(split_name)
    assert len(lines) == len(split)
    for i, line in enumerate(lines):
        want = json.loads(line)
        got = as_lists(split[i])
        assert got["image/filename"] == want["image/filename"]
        assert got["objects"] == want["objects"]
        assert got["objects_trainable"] == want["objects_trainable"]
        # dump prints the shortest text that reads back as the same float32
        want_boxes = want["bobjects"]
        assert got["bobjects"]["bbox"] == [[float(np.float32(v)) for v in box]
                                           for box in want_boxes.pop("bbox")]
        for name, values in want_boxes.items():
            assert got["bobjects"][name] == values, name
        sizes = {c: (want["image"][c]["height"], want["image"][c]["width"]) for c in want["image"]}
        for config, size in sizes.items():
            assert split.image_size(i, config) == size


def test_dtypes_and_ids(store):
    split = store.split("train")
    ex = split[0]
    assert ex["objects"]["label"].dtype == np.uint16
    assert ex["objects"]["confidence"].dtype == np.uint8
    assert ex["bobjects"]["is_inside"].dtype == np.int8
    ids = split.ids
    assert ids.dtype == np.uint64 and len(ids) == len(split)
    assert np.all(ids[1:] > ids[:-1])  # ascending, no duplicates
    assert [int(h, 16) for h in (split[i]["image/filename"][:-4] for i in range(len(split)))] \
        == ids.tolist()


def test_get_by_id_in_every_form(store):
    split = store.split("validation")
    ex = split[-1]
    filename = ex["image/filename"]
    hex_id = filename[:-4]
    for key in (int(hex_id, 16), hex_id, filename, hex_id.upper()):
        assert split.get(key)["image/filename"] == filename
    assert store.get("validation", hex_id)["image/filename"] == filename


def test_get_of_an_id_of_another_split_names_that_split(store):
    hex_id = store.split("validation")[0]["image/filename"][:-4]
    with pytest.raises(oiv4kv.NotFoundError, match=r'it is in the validation split: '
                                                   r'store.split\("validation"\)'):
        store.split("train").get(hex_id)
    with pytest.raises(oiv4kv.NotFoundError, match="it is in the validation split"):
        store.get("test", int(hex_id, 16))
    absent = 1  # ids are 64-bit hashes: none is this small
    with pytest.raises(oiv4kv.NotFoundError) as e:
        store.split("train").get(absent)
    assert "it is in" not in str(e.value)


def test_slices_and_batches_equal_single_reads(store):
    split = store.split("train")
    n = len(split)
    names = [split[i]["image/filename"] for i in range(n)]
    assert [e["image/filename"] for e in split[1:n:3]] == names[1:n:3]
    assert [e["image/filename"] for e in split.examples([5, 0, -1, 5])] == \
        [names[5], names[0], names[-1], names[5]]
    assert [e["image/filename"] for e in split] == names  # iteration stops at IndexError


def test_errors_name_what_is_wrong(store, tmp_path):
    split = store.split("train")
    with pytest.raises(IndexError, match="out of range"):
        split[len(split)]
    absent = next(i for i in range(1, 1 << 20) if i not in set(split.ids.tolist()))
    with pytest.raises(oiv4kv.NotFoundError) as e:
        split.get(absent)
    assert isinstance(e.value, LookupError)
    with pytest.raises(ValueError, match="16 hex digits"):
        split.get("xyz")
    with pytest.raises(ValueError, match="unknown split"):
        store.split("val")
    with pytest.raises(ValueError, match="unknown config"):
        split.image(0, "100k")
    with pytest.raises(oiv4kv.NotSupportedError, match="200k"):
        split.image(0, "200k")  # not converted
    missing = tmp_path / "nothing-here"
    with pytest.raises(oiv4kv.InvalidArgumentError, match=str(missing)):
        oiv4kv.Store(str(missing))


def test_incomplete_store_is_refused(download, tmp_path):
    # A conversion that fails on its first bad row leaves a store whose
    # annotations were never committed.
    broken = tmp_path / "download"
    import shutil
    shutil.copytree(download, broken)
    bbox = broken / "train-annotations-bbox.csv"
    lines = bbox.read_text().splitlines(keepends=True)
    lines.insert(len(lines) - 1, "0000000000000001,xclick,/m/0,1,0.5,0.1,0.1,0.2,0,0,0,0,0\n")
    bbox.write_text("".join(lines))
    store_dir = tmp_path / "store"
    result = run_cli("convert", "--source", broken, "--store", store_dir, "--config", "300k",
                     check=False)
    assert result.returncode != 0
    assert store_dir.exists(), result.stderr
    with pytest.raises(oiv4kv.InvalidArgumentError, match="incomplete"):
        oiv4kv.Store(str(store_dir))
    # allow_incomplete opens it for inspection.
    assert oiv4kv.Store(str(store_dir), allow_incomplete=True).configs == []


def test_vocabularies_match_the_class_files(store, download):
    all_rows = read_rows(download / "class-descriptions.csv")
    vocab = store.vocabulary("all")
    assert len(vocab) == len(all_rows)
    assert vocab.mids == [r[0] for r in all_rows]
    assert vocab.names == [r[1] for r in all_rows]
    k = len(all_rows) // 2
    assert vocab[k] == (all_rows[k][0], all_rows[k][1])
    assert vocab.index(all_rows[k][0]) == k
    with pytest.raises(oiv4kv.NotFoundError):
        vocab.index("/m/not-a-mid")
    boxable = store.vocabulary("boxable")
    assert boxable.mids == [r[0] for r in read_rows(download / "class-descriptions-boxable.csv")]
    assert store.vocabulary("source").mids == SOURCES
    assert store.label_order == "download"


def test_store_properties(store, store_path):
    assert store.configs == ["original", "300k"]
    assert store.splits == ["train", "validation", "test"]
    assert store.path == str(store_path)
    assert store.options["index_annotations"] is True
    assert oiv4kv.SCHEMA_VERSION >= 1


def test_default_config_is_the_command_lines(store, store_path):
    # original and 300k are complete: the rule (Store::DefaultConfig) is the
    # first complete of 300k, 200k, original, for Python as for `oiv4-kv get`.
    assert store.default_config == "300k"
    split = store.split("validation")
    assert bytes(split.image(1)) == bytes(split.image(1, "300k"))
    assert bytes(split.image(1)) != bytes(split.image(1, "original"))
    assert split.image_size(1) == split.image_size(1, "300k")
    cli = json.loads(run_cli("get", store_path, "--split", "validation", "--index", 1,
                             "--json").stdout)
    assert cli["config"] == store.default_config


def test_name_errors_list_the_apis_names(store):
    # The binding's tables are the public API's (XNames); lists by hand.
    split = store.split("train")
    cases = [
        (lambda: store.split("dev"), "unknown split 'dev' (train, validation or test)"),
        (lambda: split.image(0, "300K"), "unknown config '300K' (original, 300k or 200k)"),
        (lambda: store.vocabulary("box"),
         "unknown vocabulary 'box' (all, trainable, boxable or source)"),
        (lambda: oiv4kv.DecodeOptions(pixel_format="rgba"),
         "pixel_format must be 'rgb', 'bgr' or 'gray', not 'rgba'"),
        (lambda: oiv4kv.DecodeOptions(truncated="skip"),
         "truncated must be 'error' or 'warn', not 'skip'"),
        (lambda: split.scan(order="random"),
         "order must be 'sequential', 'shuffled' or 'block_shuffled', not 'random'"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as e:
            call()
        assert str(e.value) == message
    assert len(cases) == 6


def test_rocksdb_get_path_agrees_with_the_index(store_path):
    indexed = oiv4kv.Store(str(store_path))
    other = oiv4kv.Store(str(store_path), index_annotations=False, verify_records=True)
    for i in range(len(indexed.split("train"))):
        assert as_lists(indexed.split("train")[i]) == as_lists(other.split("train")[i])


def test_exif_orientation_applied_to_original_matches_300k_that_boxes_refer_to(store):
    """300k applied EXIF orientation at conversion; `original` keeps the tag,
    and apply_exif_orientation gives the orientation the boxes refer to."""
    upright = oiv4kv.DecodeOptions(apply_exif_orientation=True)
    checked = differs = 0
    for name in ("train", "validation", "test"):
        split = store.split(name)
        for i in range(len(split)):
            try:
                small = split.decoded(i, "300k").shape
                as_stored = split.decoded(i, "original").shape
                rotated = split.decoded(i, "original", upright).shape
            except oiv4kv.CorruptionError:  # synth's truncated files
                continue
            portrait = lambda shape: shape[0] > shape[1]
            if small[0] != small[1] and rotated[0] != rotated[1]:
                assert portrait(small) == portrait(rotated), (name, i, small, rotated)
                differs += portrait(as_stored) != portrait(rotated)
                checked += 1
    assert checked > 10
    assert differs >= 1, "synth should make an image whose EXIF tag turns it by 90 degrees"


def test_split_and_config_names_come_from_the_library():
    assert oiv4kv.SPLITS == SPLITS
    assert oiv4kv.CONFIGS == ("original", "300k", "200k")
