"""oiv4kv.distributed: a plan converted on a real Dask cluster (a scheduler and
two nanny-supervised workers on 127.0.0.1) gives the same store as one-machine
`oiv4-kv convert`; a worker killed -9 mid-unit is recovered from; a unit that
keeps failing is named and nothing is ingested."""

import filecmp
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import CLI, run_cli

distributed = pytest.importorskip("distributed")

SPLITS = ("train", "validation", "test")
STARTUP_TIMEOUT_S = 60


def _wait_for(condition, what, timeout=STARTUP_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A dask-scheduler and two dask-workers (one thread each, under a nanny so
    that a killed worker comes back), all on 127.0.0.1; stopped at the end."""
    tmp_path = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp_path / "scheduler.json"
    bin_dir = os.path.dirname(sys.executable)
    common = ["--no-dashboard"]
    # Workers without the oiv4kv package: they need only Dask and the binary.
    worker_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    processes = [subprocess.Popen(
        [os.path.join(bin_dir, "dask-scheduler"), "--host", "127.0.0.1", "--port", "0",
         "--scheduler-file", str(scheduler_file), *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        _wait_for(scheduler_file.exists, "the scheduler writing its address")
        for _ in range(2):
            processes.append(subprocess.Popen(
                [os.path.join(bin_dir, "dask-worker"), "--scheduler-file", str(scheduler_file),
                 "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1", "--nanny",
                 "--local-directory", str(tmp_path / "dask-worker-space"), *common],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                env=worker_env))
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout=STARTUP_TIMEOUT_S)
        try:
            client.wait_for_workers(2, timeout=STARTUP_TIMEOUT_S)
            yield client
        finally:
            client.close()
    finally:
        for p in reversed(processes):
            # Each process leads its own session: the group takes the nanny's worker too.
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.fixture(scope="module")
def plan_and_reference(tmp_path_factory):
    """A synthetic download, its plan (one unit per archive) and the store that
    one-machine `oiv4-kv convert` makes of it."""
    root = tmp_path_factory.mktemp("dist")
    source = root / "download"
    run_cli("synth", source, "--images", 60, "--max-side", 64, "--seed", 11, "--threads", 1)
    reference = root / "one_machine"
    run_cli("convert", "--source", source, "--store", reference, "--config", "original",
            "--on-error", "skip", "--threads", 1)
    plan = root / "plan" / "plan.json"
    run_cli("plan", "--source", source, "--config", "original", "--on-error", "skip",
            "--out", plan)
    return plan, reference


def _fresh_work(tmp_path, plan):
    """A units folder of its own holding a copy of the plan (the plan is read-only input)."""
    work = tmp_path / "work"
    work.mkdir()
    copy = work / "plan.json"
    copy.write_bytes(plan.read_bytes())
    return copy, work


def _assert_same_store(store, reference, tmp_path):
    """Equal `dump` of every split and byte-equal `export`ed images."""
    checked = 0
    for split in SPLITS:
        ours = run_cli("dump", "--split", split, store).stdout
        theirs = run_cli("dump", "--split", split, reference).stdout
        assert theirs.strip(), f"empty dump of {split}"
        assert ours == theirs, f"dump of {split} differs from one-machine convert"
        run_cli("export", store, "--config", "original", "--split", split,
                "--out", tmp_path / "ours" / split)
        run_cli("export", reference, "--config", "original", "--split", split,
                "--out", tmp_path / "theirs" / split)
        files = sorted(os.listdir(tmp_path / "theirs" / split))
        assert files and sorted(os.listdir(tmp_path / "ours" / split)) == files
        match, mismatch, errors = filecmp.cmpfiles(tmp_path / "ours" / split,
                                                   tmp_path / "theirs" / split, files,
                                                   shallow=False)
        assert (mismatch, errors) == ([], []), f"exported {split} images differ"
        checked += len(match)
    # 60 synthesized images less the ones convert leaves out; a lower bound only.
    assert checked >= 50, f"compared {checked} exported images"


def _wrapper(tmp_path, body):
    """An executable standing in for oiv4-kv on the workers: `body` (bash) runs
    first, then the real CLI with the same arguments."""
    path = tmp_path / "oiv4-kv-wrapper"
    path.write_text(f"#!/bin/bash\n{body}\nexec {CLI} \"$@\"\n")
    path.chmod(0o755)
    return str(path)


def test_dask_conversion_equals_one_machine_convert(dask_cluster, plan_and_reference, tmp_path):
    plan, reference = plan_and_reference
    plan, work = _fresh_work(tmp_path, plan)
    store = tmp_path / "store"
    from oiv4kv.distributed import convert_on_dask
    units = convert_on_dask(dask_cluster, str(plan), str(work), str(store), retries=1, threads=1,
                            cli=CLI)
    assert units == 18  # train_0..f, validation, test
    _assert_same_store(store, reference, tmp_path)


def test_worker_killed_mid_unit_is_redone(dask_cluster, plan_and_reference, tmp_path):
    plan, reference = plan_and_reference
    plan, work = _fresh_work(tmp_path, plan)
    store = tmp_path / "store"
    marker = tmp_path / "unit5-started"
    # Unit 5's first run says which worker runs it ($PPID: the worker process that
    # spawned it) and then hangs, until the test kills that worker.
    cli = _wrapper(tmp_path, f"""
if [ "$1" = convert-unit ] && [ "$5" = 5 ] && mkdir {tmp_path}/unit5-claimed 2>/dev/null; then
  echo "$PPID $$" > {marker}.tmp && mv {marker}.tmp {marker}
  exec sleep 300
fi""")
    log = tmp_path / "progress.log"
    with open(log, "w") as progress:
        conversion = subprocess.Popen(
            [sys.executable, "-m", "oiv4kv.distributed", "--scheduler",
             dask_cluster.scheduler.address, "--plan", str(plan), "--work", str(work),
             "--store", str(store), "--retries", "0", "--threads", "1", "--cli", cli],
            stdout=progress, stderr=subprocess.STDOUT)
        try:
            _wait_for(marker.exists, "unit 5 starting", timeout=120)
            worker_pid, hung_pid = map(int, marker.read_text().split())
            os.kill(worker_pid, signal.SIGKILL)
            os.kill(hung_pid, signal.SIGKILL)  # orphaned by the dead worker
            assert conversion.wait(timeout=150) == 0, log.read_text()
        finally:
            if conversion.poll() is None:
                conversion.kill()
                conversion.wait()
    # --retries 0: the redo came from the scheduler rescheduling the dead worker's task.
    assert "units 18/18 done" in log.read_text()
    _assert_same_store(store, reference, tmp_path)


def test_unit_failing_after_retries_is_named_and_nothing_ingested(dask_cluster,
                                                                  plan_and_reference, tmp_path):
    plan, _ = plan_and_reference
    plan, work = _fresh_work(tmp_path, plan)
    store = tmp_path / "store"
    attempts = tmp_path / "unit3-attempts"
    cli = _wrapper(tmp_path, f"""
if [ "$1" = convert-unit ] && [ "$5" = 3 ]; then
  echo x >> {attempts}
  echo "disk on fire while converting unit 3" >&2
  exit 7
fi""")
    result = subprocess.run(
        [sys.executable, "-m", "oiv4kv.distributed", "--scheduler", dask_cluster.scheduler.address,
         "--plan", str(plan), "--work", str(work), "--store", str(store), "--retries", "2",
         "--threads", "1", "--cli", cli], capture_output=True, text=True, timeout=150)
    assert result.returncode == 1, result.stderr
    assert "1 of 18 units failed, nothing ingested" in result.stderr
    assert "unit 3 (train_3): " in result.stderr
    assert "convert-unit exited with status 7" in result.stderr
    assert "disk on fire while converting unit 3" in result.stderr
    assert len(attempts.read_text().split()) == 3  # the first try and 2 retries
    assert not store.exists()
    # The other units were converted and are kept for a rerun.
    assert (work / "train_4").is_dir()


def test_importing_oiv4kv_does_not_import_dask():
    code = ("import sys, oiv4kv, oiv4kv.distributed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
