"""requirements/lock.txt and pyproject.toml tell the same story.

The lock (made by `scripts/lock.sh`) is what every install uses; pyproject.toml keeps the loose
ranges for people who install Tracebot as a library. A dependency added to one and not the other,
or a pin outside pyproject's range, fails here before it can surprise a fresh machine.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
PROJECT = "tracebot (pyproject.toml)"


@dataclass
class Pin:
    version: Version
    hashes: int = 0
    via: set[str] = field(default_factory=set)


def parse_lock(text: str) -> dict[str, Pin]:
    """Package name -> its pin, hash count and the `# via` sources that pip-compile wrote."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for line in text.splitlines():
        entry = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if entry:
            current = pins[canonicalize_name(entry.group(1))] = Pin(Version(entry.group(2)))
            in_via = False
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("--hash="):
            current.hashes += 1
        elif stripped.startswith("# via"):
            rest = stripped.removeprefix("# via").strip()
            in_via = not rest
            if rest:
                current.via.add(rest)
        elif in_via and stripped.startswith("#   "):
            current.via.add(stripped.removeprefix("#").strip())
        elif not stripped.startswith("#"):
            in_via = False
    return pins


def parse_project(text: str) -> dict[str, Requirement]:
    """pyproject's runtime and dev requirements by canonical name."""
    project = tomllib.loads(text)["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return {canonicalize_name(requirement.name): requirement for requirement in map(Requirement, specs)}


def disagreements(lock_text: str, project_text: str) -> list[str]:
    pins, wanted = parse_lock(lock_text), parse_project(project_text)
    problems = []
    for name, requirement in sorted(wanted.items()):
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{name}: in pyproject.toml, not in the lock (run scripts/lock.sh)")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{name}: locked at {pin.version}, outside pyproject's {requirement.specifier}")
        elif PROJECT not in pin.via:
            problems.append(f"{name}: the lock does not list it as Tracebot's own (run scripts/lock.sh)")
    for name, pin in sorted(pins.items()):
        if PROJECT in pin.via and name not in wanted:
            problems.append(f"{name}: locked as Tracebot's own, gone from pyproject.toml (run scripts/lock.sh)")
        if pin.hashes == 0:
            problems.append(f"{name}: locked without a hash")
    return problems


def test_lock_and_pyproject_agree() -> None:
    problems = disagreements(LOCK.read_text(), (ROOT / "pyproject.toml").read_text())
    assert not problems, "\n".join(problems)


def test_constraints_are_honoured_by_the_lock() -> None:
    pins = parse_lock(LOCK.read_text())
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        pin = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(pin.version), f"{requirement} but the lock has {pin.version}"


def test_the_lock_pins_the_cpu_torch() -> None:
    assert parse_lock(LOCK.read_text())["torch"].version.local == "cpu"


LOCK_SAMPLE = """\
aiohttp==3.14.5 \\
    --hash=sha256:aa
    # via tracebot (pyproject.toml)
aiolimiter==1.2.1 \\
    --hash=sha256:bb
    # via python-telegram-bot
rich==15.0.0 \\
    --hash=sha256:cc
    # via
    #   stanza
    #   tracebot (pyproject.toml)
"""
PROJECT_SAMPLE = """\
[project]
dependencies = ["aiohttp>=3.10,<4", "rich>=13.7"]
[project.optional-dependencies]
dev = []
"""


def test_agreeing_files_pass() -> None:
    assert disagreements(LOCK_SAMPLE, PROJECT_SAMPLE) == []


@pytest.mark.parametrize(
    ("project", "lock", "expected"),
    [
        (PROJECT_SAMPLE.replace('"rich>=13.7"', '"rich>=13.7", "segno>=1.6"'), LOCK_SAMPLE, "segno: in pyproject"),
        (PROJECT_SAMPLE.replace('"rich>=13.7"', '"rich>=16"'), LOCK_SAMPLE, "rich: locked at 15.0.0"),
        (PROJECT_SAMPLE.replace(', "rich>=13.7"', ""), LOCK_SAMPLE, "rich: locked as Tracebot's own"),
        (PROJECT_SAMPLE, LOCK_SAMPLE.replace("    --hash=sha256:aa\n", ""), "aiohttp: locked without a hash"),
        (PROJECT_SAMPLE.replace('"rich>=13.7"', '"rich>=13.7", "aiolimiter"'), LOCK_SAMPLE, "aiolimiter: the lock"),
    ],
)
def test_each_disagreement_is_named(project: str, lock: str, expected: str) -> None:
    assert any(problem.startswith(expected) for problem in disagreements(lock, project))
