"""Package building, installing, listing, routing and downloading (all offline)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.argos_models import build_argos_package
from translations.engine import TranslationEngine
from translations.models import (
    InstalledModel,
    InstallProgress,
    PackageError,
    argos_environment,
    download_and_install,
    inspect_package_file,
    languages_without_path_to_english,
    list_installed,
)
from translations.routing import find_route, normalize_code

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_package_file_has_the_argos_layout(de_en_package: Path) -> None:
    top, metadata = inspect_package_file(de_en_package)
    with zipfile.ZipFile(de_en_package) as archive:
        names = set(archive.namelist())

    assert top == "translate-de_en-1_0"
    assert {
        f"{top}/{name}"
        for name in (
            "metadata.json",
            "sentencepiece.model",
            "model/model.bin",
            "model/config.json",
            "model/shared_vocabulary.json",
        )
    } <= names
    assert metadata["from_code"] == "de" and metadata["to_code"] == "en"
    assert metadata["package_version"] == "1.0" and metadata["type"] == "translate"


def test_install_and_list(installed_session: tuple[Path, InstalledModel], netguard_log: Path) -> None:
    packages_dir, model = installed_session

    assert list_installed(packages_dir) == [model]
    assert (model.from_code, model.to_code, model.version) == ("de", "en", "1.0")
    assert model.path == packages_dir.absolute() / "translate-de_en-1_0"
    assert (model.from_name, model.to_name) == ("German", "English")
    assert model.usable
    assert not netguard_log.exists(), "the installer tried to reach the network"


def test_argostranslate_itself_sees_the_installed_package(
    installed_session: tuple[Path, InstalledModel],
) -> None:
    packages_dir, _ = installed_session
    script = (
        "from argostranslate import package; "
        "print([(p.from_code, p.to_code, p.package_version) for p in package.get_installed_packages()])"
    )
    env = {**os.environ, **argos_environment(packages_dir)}
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    assert completed.stdout.strip() == "[('de', 'en', '1.0')]"


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"a/metadata.json": "{}", "b/model/model.bin": ""}, "one top-level directory"),
        ({"a/metadata.json": '{"from_code": "de", "to_code": "en"}'}, "model.bin"),
        ({"a/model/model.bin": ""}, "not a valid argos package"),
        ({"a/metadata.json": '{"type": "sbd"}', "a/model/model.bin": ""}, "translate package"),
    ],
)
def test_invalid_package_files_are_rejected(tmp_path: Path, members: dict[str, str], reason: str) -> None:
    path = tmp_path / "bad.argosmodel"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(PackageError, match=reason):
        inspect_package_file(path)
    (tmp_path / "plain.argosmodel").write_text("not a zip")
    with pytest.raises(PackageError):
        inspect_package_file(tmp_path / "plain.argosmodel")


def _fake_model(root: Path, from_code: str, to_code: str, version: str = "1.0") -> InstalledModel:
    path = root / f"translate-{from_code}_{to_code}-{version}"
    (path / "model").mkdir(parents=True)
    (path / "model" / "model.bin").touch()
    (path / "sentencepiece.model").touch()
    metadata = {"from_code": from_code, "to_code": to_code, "package_version": version}
    (path / "metadata.json").write_text(json.dumps(metadata))
    return InstalledModel(from_code, to_code, version, path)


def test_routes_prefer_direct_then_newest_then_one_pivot(tmp_path: Path) -> None:
    for pair in (
        ("de", "en", "1.0"),
        ("de", "en", "1.10"),
        ("de", "en", "1.9"),
        ("uk", "ru", "1.0"),
        ("ru", "en", "1.0"),
        ("ja", "ko", "1.0"),
        ("ko", "zh", "1.0"),
        ("zh", "en", "1.0"),
    ):
        _fake_model(tmp_path, *pair)
    (tmp_path / "not-a-package").mkdir()
    models = list_installed(tmp_path)

    direct = find_route(models, "de", "en")
    assert direct is not None and [m.version for m in direct] == ["1.10"]
    pivot = find_route(models, "uk", "en")
    assert pivot is not None and [(m.from_code, m.to_code) for m in pivot] == [("uk", "ru"), ("ru", "en")]
    assert find_route(models, "ja", "en") is None  # would need two pivots
    assert find_route(models, "en", "en") == []
    assert languages_without_path_to_english(["en", "de", "uk", "ja", "pt-BR", "de"], tmp_path) == ["ja", "pt-BR"]


def test_normalize_code() -> None:
    assert [normalize_code(c) for c in ("DE", "de-AT", "pt_BR", "zh-TW", "zh-cn", "fr")] == [
        "de",
        "de",
        "pb",
        "zt",
        "zh",
        "fr",
    ]


def test_languages_without_path_to_english(installed_session: tuple[Path, InstalledModel], tmp_path: Path) -> None:
    packages_dir, _ = installed_session
    assert languages_without_path_to_english(["en", "de", "fr", "pt-BR"], packages_dir) == ["fr", "pt-BR"]
    assert languages_without_path_to_english(["de", "en"], tmp_path / "nothing-installed") == ["de"]


@pytest.fixture
def package_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local HTTP server with an argos-style index.json offering es->en and en->es."""
    served = tmp_path / "served"
    served.mkdir()
    packages = {f"{a}_{b}.argosmodel": build_argos_package(a, b, "tiny") for a, b in (("es", "en"), ("en", "es"))}
    for name, package in packages.items():
        (served / name).write_bytes(package.read_bytes())
    handler = functools.partial(QuietHandler, directory=str(served))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        index = [{**inspect_package_file(path)[1], "links": [base + name]} for name, path in packages.items()]
        (served / "index.json").write_text(json.dumps(index))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base
        finally:
            server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_download_and_install_from_an_index(packages_dir: Path, package_index: str, no_network: Path) -> None:
    events: list[InstallProgress] = []

    report = download_and_install(["es", "de", "xx"], events.append, packages_dir=packages_dir, index_url=package_index)

    assert [(m.from_code, m.to_code) for m in report.installed] == [("es", "en")]
    assert report.already_installed == ["de"]
    assert report.unavailable == ["xx"]
    assert [e.stage for e in events] == ["index", "unavailable", "plan", "download", "install", "installed", "done"]
    assert events[3].package == "es->en" and (events[3].step, events[3].total) == (1, 1)
    engine = TranslationEngine(packages_dir)
    assert engine.translate_batch("es", ["El perro ve el gato."]) == ["The dog sees the cat."]


def test_download_both_directions_reports_what_is_missing(
    packages_dir: Path, package_index: str, no_network: Path
) -> None:
    """`tracebot models install` fetches xx->en for tips and answers, en->xx for follow-up questions."""
    report = download_and_install(
        ["es", "de", "xx"], packages_dir=packages_dir, index_url=package_index, both_directions=True
    )

    assert sorted((m.from_code, m.to_code) for m in report.installed) == [("en", "es"), ("es", "en")]
    assert report.already_installed == [], "de->en is installed, en->de is not (and not offered)"
    assert report.unavailable == ["xx"] and report.unavailable_reverse == ["de", "xx"]
    assert languages_without_path_to_english(["es", "de"], packages_dir, from_english=True) == ["de"]
    assert TranslationEngine(packages_dir).translate_batch("en", ["The dog sees the cat."], "es") == [
        "El perro ve el gato."
    ]


def test_download_reports_an_unreachable_index(packages_dir: Path, no_network: Path) -> None:
    with pytest.raises(PackageError, match="could not fetch the package index"):
        download_and_install(["es"], packages_dir=packages_dir, index_url="http://127.0.0.1:9/")
