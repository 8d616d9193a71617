"""What a Python user expects of the distribution: the licence pyproject names is the LICENSE
file, and the wheel carries it, `py.typed` (so type checkers read the package's annotations)
and the data files the package loads at run time (MJCF, env docs, the J1939 DBC)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_license_file_is_the_licence_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole licence, not a stub
    assert (ROOT / "librobot_gym" / "py.typed").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """A wheel built from a copy of the sources (no build folders land in the repository),
    offline, with the venv's setuptools."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "librobot_gym", src / "librobot_gym",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=300)
    (path,) = out.glob("librobot_gym-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def test_the_wheel_ships_py_typed_the_license_and_the_package_data(wheel):
    names = set(wheel.namelist())
    assert "librobot_gym/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "librobot_gym/robots/arms/franka_panda/franka_panda.xml" in names
    assert any(n.startswith("librobot_gym/hardware/j1939/") and n.endswith(".dbc")
               for n in names)
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
