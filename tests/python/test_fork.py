"""A Store (and a scan) used in a process forked after it was opened, and
pickling for spawned workers. Every child runs under a deadline, so a hang
fails the test instead of stalling the suite."""

import os
import pickle
import signal
import sys
import time

import pytest

import oiv4kv

DEADLINE_S = 60


def run_in_child(body):
    """Runs body() in a forked child; returns its exit status (0: body
    returned True). The child is killed if it outlives the deadline."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(DEADLINE_S)  # default action: terminate
            code = 0 if body() else 3
        except BaseException as e:  # noqa: BLE001 - any failure is the child's exit code
            print(f"child failed: {e!r}", file=sys.stderr)
        finally:
            os._exit(code)
    deadline = time.monotonic() + DEADLINE_S + 5
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("forked child hung")


def sst_mapping_count(store_path):
    with open("/proc/self/maps") as maps:
        return sum(1 for line in maps if str(store_path) in line and line.rstrip().endswith(".sst"))


def names(split, indices):
    return [split[i]["image/filename"] for i in indices]


def test_child_reads_through_a_store_opened_by_the_parent(store_path):
    store = oiv4kv.Store(str(store_path))
    split = store.split("train")
    n = len(split)
    want = names(split, range(n))
    want_image = bytes(split.image(n - 1, "300k"))
    inherited = split[0]  # arrays made before the fork

    def child():
        before = sst_mapping_count(store_path)
        ok = names(split, range(n)) == want
        # The child opened the store again (its own mappings of the tables)
        # rather than using the parent's RocksDB objects.
        ok &= sst_mapping_count(store_path) > before
        ok &= bytes(split.image(n - 1, "300k")) == want_image
        ok &= split.decoded(0, "300k").shape[2] == 3
        ok &= inherited["image/filename"] == want[0] and inherited["objects"]["label"].size >= 0
        # The grandchild of a child reopens again.
        ok &= run_in_child(lambda: names(split, range(n)) == want) == 0
        return ok

    assert run_in_child(child) == 0
    assert names(split, range(n)) == want  # the parent is unaffected


def test_child_continues_a_scan_the_parent_started(store_path):
    store = oiv4kv.Store(str(store_path))
    split = store.split("train")
    args = dict(order="shuffled", seed=5, batch_size=4, prefetch_batches=3, config="300k")
    full = [ex["image/filename"] for ex in split.scan(**args)]
    scan = split.scan(**args)
    head = [next(scan)["image/filename"] for _ in range(6)]  # read-ahead thread running

    def child():
        rest = [ex["image/filename"] for ex in scan]
        return head + rest == full

    assert run_in_child(child) == 0
    assert head + [ex["image/filename"] for ex in scan] == full


def test_many_children_at_once(store_path):
    store = oiv4kv.Store(str(store_path))
    split = store.split("validation")
    want = names(split, range(len(split)))
    pids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            signal.alarm(DEADLINE_S)
            os._exit(0 if names(split, range(len(split))) == want else 3)
        pids.append(pid)
    assert [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids] == [0] * 4


def test_pickle_keeps_path_and_options(store_path):
    store = oiv4kv.Store(str(store_path), index_annotations=False, verify_records=True)
    copy = pickle.loads(pickle.dumps(store))
    assert copy.path == store.path and copy.options == store.options
    assert copy.split("test")[0]["image/filename"] == store.split("test")[0]["image/filename"]
    options = oiv4kv.DecodeOptions(pixel_format="bgr", min_width=8, truncated="warn")
    back = pickle.loads(pickle.dumps(options))
    assert (back.pixel_format, back.min_width, back.truncated) == ("bgr", 8, "warn")
