"""Installed argostranslate packages: list, install, download, route to English.

The bot process never imports argostranslate's translation stack: importing
`argostranslate.translate` pulls in stanza, torch, spaCy and MiniSBD (~3 s and ~300 MB
RSS), and even `argostranslate.package.install_from_path` imports it to clear a
cache. So this module reads package metadata straight from disk and zips, and runs
argostranslate's own installer and downloader in a short-lived child process
(`translations._argos_worker`). Only when the calling process has already imported
`argostranslate.translate` (a benchmark, an admin shell) does it install in-process, so
that the process's own argos caches see the new package.

Argos reads its settings (`ARGOS_PACKAGES_DIR`, XDG dirs, ...) once, at import time;
`argos_environment()` gives the variables we set for it - always before it is imported.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from translations import _argos_worker
from translations.packages import (
    DEFAULT_PACKAGES_DIR,
    ENGLISH,
    PACKAGES_DIR_ENV,
    InstalledModel,
    PackageError,
    default_packages_dir,
    inspect_package_file,
    list_installed,
    read_installed,
)
from translations.routing import find_route, normalize_code

log = logging.getLogger(__name__)


class PackageIndexUnreachable(PackageError):  # noqa: N818 - reads as what happened, like PackageError
    """argos's package index could not be downloaded (no network): only `--file` installs work."""

    def __init__(self, url: str) -> None:
        super().__init__(f"could not fetch the package index {url}")
        self.url = url


@dataclass(frozen=True)
class InstallProgress:
    """A step of `download_and_install`, passed to its progress callback."""

    stage: str  # "index", "plan", "download", "install", "installed", "unavailable", "done"
    package: str = ""  # e.g. "de->en"
    step: int = 0
    total: int = 0
    message: str = ""


@dataclass
class DownloadReport:
    """What `download_and_install` did."""

    installed: list[InstalledModel] = field(default_factory=list)
    already_installed: list[str] = field(default_factory=list)  # language codes
    unavailable: list[str] = field(default_factory=list)  # no package path to the target
    unavailable_reverse: list[str] = field(default_factory=list)  # no path from the target (with `both_directions`)


ProgressCallback = Callable[[InstallProgress], None]


def argos_state_dir(packages_dir: Path) -> Path:
    """Where argos keeps its index, download cache and config for our packages dir.

    A sibling of the packages dir, never inside it: argostranslate treats every
    subdirectory of the packages dir as a package.
    """
    packages_dir = packages_dir.absolute()
    return packages_dir.with_name(packages_dir.name + "-argos-state")


def argos_environment(packages_dir: Path, *, index_url: str | None = None) -> dict[str, str]:
    """Environment variables that point argostranslate at our directories only.

    The XDG variables keep argos's index, downloads and `settings.json` next to our
    packages instead of in the user's home, so a stray `~/.config/argos-translate/
    settings.json` cannot redirect us to another package dir or a remote API.
    """
    packages_dir = packages_dir.absolute()
    state = argos_state_dir(packages_dir)
    env = {
        "ARGOS_PACKAGES_DIR": str(packages_dir),
        "XDG_DATA_HOME": str(state / "data"),
        "XDG_CONFIG_HOME": str(state / "config"),
        "XDG_CACHE_HOME": str(state / "cache"),
        "ARGOS_DEBUG": "0",
        "ARGOS_DEVICE_TYPE": "cpu",
        "ARGOS_MODEL_PROVIDER": "OPENNMT",
    }
    if index_url is not None:
        env["ARGOS_PACKAGE_INDEX"] = index_url if index_url.endswith("/") else index_url + "/"
    return env


def configure_argos_environment(packages_dir: Path, *, index_url: str | None = None) -> dict[str, str]:
    """Apply `argos_environment()` to this process, before argostranslate is imported.

    Raises RuntimeError if argostranslate was already imported with another packages
    dir: its settings module read the environment then and would ignore ours. Note
    that this sets XDG_DATA_HOME/XDG_CONFIG_HOME/XDG_CACHE_HOME for the whole process;
    it is meant for processes that run argostranslate itself (benchmarks, admin tools),
    not for the bot, which never needs it.
    """
    env = argos_environment(packages_dir, index_url=index_url)
    argos_settings: Any = sys.modules.get("argostranslate.settings")
    if argos_settings is not None:
        current = Path(argos_settings.package_data_dir).absolute()
        if current != packages_dir.absolute():
            raise RuntimeError(
                f"argostranslate was imported before its packages dir was set (it uses {current}); "
                "call configure_argos_environment() before importing argostranslate"
            )
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    packages_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env


def install_package_file(path: Path, packages_dir: Path | None = None) -> InstalledModel:
    """Install one `.argosmodel` through argostranslate's `install_from_path`."""
    return install_package_files([path], packages_dir)[0]


def install_package_files(paths: Sequence[Path], packages_dir: Path | None = None) -> list[InstalledModel]:
    """Install several `.argosmodel` files (one child process for all of them).

    Older versions of the same language pair are removed afterwards, so exactly one
    package per pair stays installed.
    """
    root = (packages_dir or default_packages_dir()).absolute()
    tops = [inspect_package_file(Path(p))[0] for p in paths]
    if not paths:
        return []
    root.mkdir(parents=True, exist_ok=True)
    files = [str(Path(p).absolute()) for p in paths]
    if "argostranslate.translate" in sys.modules:
        _install_in_process(files, root)
    else:
        _run_worker({"action": "install", "files": files}, argos_environment(root), None)
    installed = []
    for top in tops:
        model = read_installed(root / top)
        if model is None:
            raise PackageError(f"{top} did not install into {root}")
        installed.append(model)
    for model in installed:
        _remove_other_versions(model, root)
    _refresh_argos_cache()
    return installed


def uninstall(model: InstalledModel) -> None:
    """Delete an installed package directory (engines keep it loaded until reload())."""
    shutil.rmtree(model.path)
    _refresh_argos_cache()


def download_and_install(
    codes: Iterable[str],
    progress: ProgressCallback | None = None,
    *,
    packages_dir: Path | None = None,
    target: str = ENGLISH,
    index_url: str | None = None,
    both_directions: bool = False,
) -> DownloadReport:
    """Fetch argostranslate's package index and install packages so that each of
    `codes` can be translated to `target` (directly, or through one pivot language),
    and, with `both_directions`, from `target` to each code as well (follow-up questions).

    Needs the network; it is an operator action (CLI/admin), never run by the bot on
    its own. `progress` is called in the calling thread for every step. Blocking.
    """
    root = (packages_dir or default_packages_dir()).absolute()
    root.mkdir(parents=True, exist_ok=True)
    installed = list_installed(root)
    report = DownloadReport()
    wanted = []
    for code in dict.fromkeys(normalize_code(c) for c in codes):
        reverse_ok = not both_directions or find_route(installed, target, code) is not None
        if code == target or (find_route(installed, code, target) is not None and reverse_ok):
            report.already_installed.append(code)
        else:
            wanted.append(code)
    if not wanted:
        if progress:
            progress(InstallProgress("done", message="nothing to install"))
        return report
    request = {"action": "download", "codes": wanted, "target": target, "reverse": both_directions}
    events = _run_worker(request, argos_environment(root, index_url=index_url), progress)
    for event in events:
        if event.stage == "installed":
            model = read_installed(root / event.message)
            if model is not None:
                report.installed.append(model)
                _remove_other_versions(model, root)
        elif event.stage == "unavailable":
            report.unavailable.append(event.package)
        elif event.stage == "unavailable_reverse":
            report.unavailable_reverse.append(event.package)
    _refresh_argos_cache()
    return report


def languages_without_path_to_english(
    ui_languages: Iterable[str], packages_dir: Path | None = None, *, from_english: bool = False
) -> list[str]:
    """The UI languages (as given) whose tips could not be translated to English (or, `from_english`:
    into which follow-up questions could not be translated)."""
    installed = list_installed(packages_dir)
    missing = []
    for language in dict.fromkeys(ui_languages):
        code = normalize_code(language)
        route = find_route(installed, ENGLISH, code) if from_english else find_route(installed, code, ENGLISH)
        if route is None:
            missing.append(language)
    return missing


def _run_worker(
    request: dict[str, Any], env: dict[str, str], progress: ProgressCallback | None
) -> list[InstallProgress]:
    def forward(event: dict[str, Any]) -> None:
        if progress is not None:
            progress(_progress(event))

    try:
        return [_progress(event) for event in _argos_worker.run(request, env, forward)]
    except _argos_worker.WorkerError as exc:
        if exc.kind == "index_unreachable":
            raise PackageIndexUnreachable(exc.url or "") from None
        raise PackageError(str(exc)) from exc


def _progress(event: dict[str, Any]) -> InstallProgress:
    return InstallProgress(
        stage=str(event.get("stage", "")),
        package=str(event.get("package", "")),
        step=int(event.get("step", 0)),
        total=int(event.get("total", 0)),
        message=str(event.get("message", "")),
    )


def _remove_other_versions(model: InstalledModel, root: Path) -> None:
    for other in list_installed(root):
        if (other.from_code, other.to_code) == (model.from_code, model.to_code) and other.path != model.path:
            log.info("removing %s, replaced by %s", other.path.name, model.path.name)
            shutil.rmtree(other.path, ignore_errors=True)


def _refresh_argos_cache() -> None:
    # A process that uses argostranslate.translate itself caches the installed languages.
    argos_translate: Any = sys.modules.get("argostranslate.translate")
    if argos_translate is not None:
        argos_translate.get_installed_languages.cache_clear()


def _install_in_process(files: Sequence[str], root: Path) -> None:
    # Only reached when argostranslate.translate is already loaded, i.e. it is cheap.
    import argostranslate.package
    import argostranslate.settings

    if Path(argostranslate.settings.package_data_dir).absolute() != root:
        raise PackageError(
            f"argostranslate in this process installs into {argostranslate.settings.package_data_dir}, "
            f"not {root}; call configure_argos_environment() before importing it"
        )
    for file in files:
        argostranslate.package.install_from_path(Path(file))


__all__ = [
    "DEFAULT_PACKAGES_DIR",
    "ENGLISH",
    "PACKAGES_DIR_ENV",
    "DownloadReport",
    "InstallProgress",
    "InstalledModel",
    "PackageError",
    "PackageIndexUnreachable",
    "default_packages_dir",
    "inspect_package_file",
    "list_installed",
    "read_installed",
]
