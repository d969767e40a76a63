"""Names a store holds that are not UTF-8 (issue 12 item 6): the binding
returns them as str with each bad byte replaced by U+FFFD, never raising
UnicodeDecodeError. The stores come from write_sample_store (the project's
own sample writer): `good` as generated, `bad` the same with bytes ff fe put
before every display name of the `all` list, and the first name only ff."""

import os
import subprocess

import pytest

import oiv4kv

WRITER = os.environ.get("OIV4KV_WRITE_SAMPLE_STORE")


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    if not WRITER:
        pytest.skip("OIV4KV_WRITE_SAMPLE_STORE is not set (ctest sets it)")
    path = tmp_path_factory.mktemp("names")
    subprocess.run([WRITER, str(path)], check=True)
    return oiv4kv.Store(str(path / "good")), oiv4kv.Store(str(path / "bad"))


def test_names_that_are_not_utf8_read_with_replacement_characters(stores):
    good, bad = stores
    expected = good.vocabulary("all").names
    assert len(expected) == 19995  # the sample generator's `all` list
    expected = ["\ufffd"] + ["\ufffd\ufffd" + n for n in expected[1:]]
    vocab = bad.vocabulary("all")
    assert vocab.names == expected
    checked = 0
    for i in (0, 1, 2, 17, len(vocab) - 1):
        assert vocab.name(i) == expected[i]
        assert vocab[i] == (good.vocabulary("all").mid(i), expected[i])
        checked += 1
    assert checked == 5
    # The MIDs were not changed and read as before.
    assert vocab.mids == good.vocabulary("all").mids


def test_examples_of_a_store_with_bad_names_read_as_before(stores):
    good, bad = stores
    n = 0
    for split in ("train", "validation", "test"):
        for a, b in zip(good.split(split), bad.split(split)):
            assert a["image/filename"] == b["image/filename"]
            assert (a["objects"]["label"] == b["objects"]["label"]).all()
            n += 1
    assert n == 20  # write_sample_store: 12 + 4 + 4 examples
