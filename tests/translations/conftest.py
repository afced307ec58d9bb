"""Fixtures for the translation tests: toy argos packages, installed once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import netguard
from tests.support.argos_models import build_argos_package
from translations.models import InstalledModel, install_package_files


@pytest.fixture(scope="session")
def de_en_package() -> Path:
    """The tiny German->English `.argosmodel` (built once, cached in the temp dir)."""
    return build_argos_package("de", "en", "tiny")


@pytest.fixture(scope="session")
def netguard_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where guarded processes record network attempts (must stay empty)."""
    return tmp_path_factory.mktemp("netguard") / "attempts.log"


@pytest.fixture(scope="session")
def installed_session(
    tmp_path_factory: pytest.TempPathFactory, de_en_package: Path, netguard_log: Path
) -> tuple[Path, InstalledModel]:
    """de->en installed through argostranslate's real installer, with networking blocked."""
    packages_dir = tmp_path_factory.mktemp("argos") / "packages"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in netguard.child_environment(netguard_log).items():
            patch.setenv(name, value)
        (model,) = install_package_files([de_en_package], packages_dir)
    return packages_dir, model


@pytest.fixture
def packages_dir(installed_session: tuple[Path, InstalledModel], tmp_path: Path) -> Path:
    """A private copy of the session's packages dir, free to modify."""
    source, _ = installed_session
    copy = tmp_path / "packages"
    shutil.copytree(source, copy)
    return copy


@pytest.fixture
def no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Block non-loopback networking here and in child processes; yields the log path."""
    log = tmp_path / "netguard.log"
    for name, value in netguard.child_environment(log).items():
        monkeypatch.setenv(name, value)
    restore = netguard.install(str(log))
    try:
        yield log
    finally:
        restore()
    assert not log.exists(), f"network access attempted: {log.read_text()}"
