"""The lock (requirements/) matches pyproject.toml, offline: `make lock` was run after the last change."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app.config import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
RELOCK = "pyproject.toml changed since the lock was made: run `make lock` and commit requirements/"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def read_lock(path: Path) -> dict[str, tuple[str, int]]:
    """Each pinned package's version and how many hashes follow it."""
    pins: dict[str, tuple[str, int]] = {}
    name = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            pins[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def unlocked(requirements: list[str], pins: dict[str, tuple[str, int]]) -> list[str]:
    """The requirements the lock lacks or pins at a version they do not allow."""
    wrong = []
    for text in requirements:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            wrong.append(f"{text} (lock: {pinned[0] if pinned else 'missing'})")
    return wrong


def test_the_runtime_lock_pins_every_dependency_of_pyproject():
    assert unlocked(pyproject()["dependencies"], read_lock(ROOT / "requirements/runtime.txt")) == [], RELOCK


def test_the_test_lock_pins_the_dependencies_and_the_test_extra():
    project = pyproject()
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    assert unlocked(wanted, read_lock(ROOT / "requirements/test.txt")) == [], RELOCK


def test_the_test_lock_installs_the_runtime_lock_unchanged():
    runtime = read_lock(ROOT / "requirements/runtime.txt")
    test = read_lock(ROOT / "requirements/test.txt")
    assert {name: test.get(name) for name in runtime} == runtime


def test_every_locked_package_carries_hashes():
    for path in (ROOT / "requirements/runtime.txt", ROOT / "requirements/test.txt"):
        pins = read_lock(path)
        assert len(pins) > 20, f"{path.name} looks empty"
        assert [name for name, (_, hashes) in pins.items() if hashes == 0] == [], f"{path.name}: pins without --hash"


def test_a_requirement_the_lock_does_not_satisfy_is_reported():
    pins = {"flask": ("3.1.3", 2)}
    assert unlocked(["Flask==3.1.3", "flask-limiter>=3.8", "flask>=4"], pins) == [
        "flask-limiter>=3.8 (lock: missing)", "flask>=4 (lock: 3.1.3)"]
