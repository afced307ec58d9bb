"""Argos translation packages on disk: what an `.argosmodel` file holds and what is installed.

Plain file and zip reading, no argostranslate import: used by the installer (`translations.models`),
its child process (`translations._argos_worker`) and route planning (`translations.routing`).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.version import InvalidVersion, Version

PACKAGES_DIR_ENV = "TRACEBOT_ARGOS_PACKAGES_DIR"
DEFAULT_PACKAGES_DIR = Path("data/argos-packages")
ENGLISH = "en"


class PackageError(Exception):
    """A package file is invalid, or installing/downloading it failed."""


@dataclass(frozen=True)
class InstalledModel:
    """One installed translation package (a directory under the packages dir)."""

    from_code: str
    to_code: str
    version: str
    path: Path
    from_name: str = ""
    to_name: str = ""
    target_prefix: str = ""

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def sentencepiece_model(self) -> Path:
        return self.path / "sentencepiece.model"

    @property
    def usable(self) -> bool:
        """Whether TranslationEngine can run it (CTranslate2 + sentencepiece packages)."""
        return (self.model_dir / "model.bin").is_file() and self.sentencepiece_model.is_file()


def default_packages_dir() -> Path:
    """`$TRACEBOT_ARGOS_PACKAGES_DIR`, else `data/argos-packages` (relative to the cwd)."""
    return Path(os.environ.get(PACKAGES_DIR_ENV) or DEFAULT_PACKAGES_DIR)


def read_installed(package_dir: Path) -> InstalledModel | None:
    """The package in `package_dir`, or None if it is not a translate package."""
    try:
        metadata = json.loads((package_dir / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _from_metadata(metadata, package_dir)


def list_installed(packages_dir: Path | None = None) -> list[InstalledModel]:
    """Installed translate packages, sorted by language pair, newest version first."""
    root = packages_dir or default_packages_dir()
    if not root.is_dir():
        return []
    models = [m for p in root.iterdir() if p.is_dir() and (m := read_installed(p)) is not None]
    # Stable sorts: pair, then newest version first, then directory name.
    models.sort(key=lambda m: m.path.name)
    models.sort(key=lambda m: version_key(m.version), reverse=True)
    models.sort(key=lambda m: (m.from_code, m.to_code))
    return models


def inspect_package_file(path: Path) -> tuple[str, dict[str, Any]]:
    """Validate an `.argosmodel` zip without extracting it: (top directory, metadata)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            tops = {PurePosixPath(name).parts[0] for name in names if name.strip("/")}
            unsafe = [n for n in names if n.startswith("/") or ".." in PurePosixPath(n).parts]
            if unsafe or len(tops) != 1:
                raise PackageError(f"{path.name}: expected exactly one top-level directory")
            (top,) = tops
            metadata = json.loads(archive.read(f"{top}/metadata.json"))
            if f"{top}/model/model.bin" not in names:
                raise PackageError(f"{path.name}: no CTranslate2 model (model/model.bin)")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise PackageError(f"{path.name}: not a valid argos package ({exc})") from exc
    if not isinstance(metadata, dict) or _from_metadata(metadata, Path(top)) is None:
        raise PackageError(f"{path.name}: metadata.json lacks from_code/to_code or is not a translate package")
    return top, metadata


def _from_metadata(metadata: dict[str, Any], path: Path) -> InstalledModel | None:
    from_code, to_code = metadata.get("from_code"), metadata.get("to_code")
    if metadata.get("type", "translate") != "translate" or not from_code or not to_code:
        return None
    return InstalledModel(
        from_code=str(from_code),
        to_code=str(to_code),
        version=str(metadata.get("package_version", "")),
        path=path,
        from_name=str(metadata.get("from_name", "")),
        to_name=str(metadata.get("to_name", "")),
        target_prefix=str(metadata.get("target_prefix", "")),
    )


def version_key(version: str) -> tuple[bool, Version]:
    """Sort key for package versions; unparseable ones rank below all real ones."""
    try:
        return True, Version(version)
    except InvalidVersion:
        return False, Version("0")
