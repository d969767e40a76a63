"""Fixtures: a synthetic download (oiv4-kv synth) converted into a store with
the `original` and `300k` configs, once per test session.

Needs OIV4KV_CLI (the oiv4-kv binary) and PYTHONPATH with the built package;
ctest sets both (tests/CMakeLists.txt).
"""

import os
import shutil
import subprocess

import pytest

CLI = os.environ.get("OIV4KV_CLI", "oiv4-kv")
IMAGES = 80


def run_cli(*args, check=True):
    return subprocess.run([CLI, *map(str, args)], check=check, capture_output=True, text=True)


@pytest.fixture(scope="session")
def download(tmp_path_factory):
    """A synthetic download, with the awkward members synth adds (grey, CMYK,
    EXIF-rotated, truncated and PNG-in-.jpg images, bad archive members)."""
    path = tmp_path_factory.mktemp("oiv4") / "download"
    run_cli("synth", path, "--images", IMAGES, "--max-side", 160, "--seed", 7)
    return path


@pytest.fixture(scope="session")
def store_path(download, tmp_path_factory):
    path = tmp_path_factory.mktemp("oiv4") / "store"
    for config in ("original", "300k"):
        run_cli("convert", "--source", download, "--store", path, "--config", config,
                "--on-error", "skip")
    return path


@pytest.fixture()
def store(store_path):
    import oiv4kv
    return oiv4kv.Store(str(store_path))


@pytest.fixture()
def scratch_copy(store_path, tmp_path):
    """A private copy of the store that a test may damage."""
    copy = tmp_path / "store"
    shutil.copytree(store_path, copy)
    return copy
