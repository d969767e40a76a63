"""Builds the Python package `oiv4kv` with CMake (see pyproject.toml).

`pip install --no-build-isolation .` runs this: build_ext configures the
project with only the library and the Python module (tests, benchmarks and
the command line OFF) for the interpreter running pip, builds the module,
installs CMake's `python` component into a staging folder with the package
folder as its library folder, and copies the module and liboiv4kv's runtime
file (its soname, found by the module through RPATH $ORIGIN) next to the
pure-Python files. The environment steers CMake as usual:
CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache), CMAKE_BUILD_PARALLEL_LEVEL,
CMAKE_GENERATOR; OIV4KV_CMAKE_ARGS adds configure arguments and
OIV4KV_BUILD_TYPE picks the build type (default Release).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE_DIR = os.path.dirname(os.path.abspath(__file__))


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt"), encoding="utf-8") as f:
        match = re.search(r"project\(\s*oiv4kv\s+VERSION\s+([0-9.]+)", f.read())
    if not match:
        raise RuntimeError("no `project(oiv4kv VERSION x.y.z)` in CMakeLists.txt")
    return match.group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        stage_dir = os.path.abspath(os.path.join(self.build_temp, "stage"))
        build_type = os.environ.get("OIV4KV_BUILD_TYPE", "Release")
        configure = [
            "cmake", "-S", SOURCE_DIR, "-B", build_dir,
            f"-DCMAKE_BUILD_TYPE={build_type}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DOIV4KV_BUILD_PYTHON=ON",
            "-DOIV4KV_BUILD_TESTS=OFF",
            "-DOIV4KV_BUILD_BENCHMARKS=OFF",
            "-DOIV4KV_BUILD_TOOLS=OFF",
            # The module and liboiv4kv land in one folder, the package.
            "-DOIV4KV_PYTHON_INSTALL_DIR=.",
            "-DCMAKE_INSTALL_LIBDIR=oiv4kv",
        ]
        if "CMAKE_GENERATOR" not in os.environ and shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        configure += shlex.split(os.environ.get("OIV4KV_CMAKE_ARGS", ""))
        self._run(configure)
        # CMAKE_BUILD_PARALLEL_LEVEL from the environment sets the jobs.
        self._run(["cmake", "--build", build_dir, "--target", "oiv4kv_python"])
        shutil.rmtree(stage_dir, ignore_errors=True)
        self._run(["cmake", "--install", build_dir, "--component", "python",
                   "--prefix", stage_dir])

        staged = os.path.join(stage_dir, "oiv4kv")
        target = self.get_ext_fullpath(ext.name)
        package_dir = os.path.dirname(target)
        os.makedirs(package_dir, exist_ok=True)
        modules = [f for f in os.listdir(staged) if f.startswith("_oiv4kv") and f.endswith(".so")]
        sonames = [f for f in os.listdir(staged) if re.fullmatch(r"liboiv4kv\.so\.\d+", f)]
        if len(modules) != 1 or len(sonames) != 1:
            raise RuntimeError(f"expected one module and one liboiv4kv soname in {staged}, "
                               f"found {sorted(os.listdir(staged))}")
        shutil.copyfile(os.path.join(staged, modules[0]), target)
        shutil.copymode(os.path.join(staged, modules[0]), target)
        # The soname file itself (resolving the symlink): wheels hold no links.
        shutil.copyfile(os.path.join(staged, sonames[0]), os.path.join(package_dir, sonames[0]))

    def _run(self, command):
        print(" ".join(shlex.quote(c) for c in command), flush=True)
        subprocess.run(command, check=True)


setup(
    version=project_version(),
    packages=["oiv4kv"],
    package_dir={"": "python"},
    ext_modules=[CMakeExtension("oiv4kv._oiv4kv")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    # Not build/, the usual CMake build folder of a checkout.
    options={"build": {"build_base": "build-pip"}},
)
