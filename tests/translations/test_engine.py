"""TranslationEngine against real CTranslate2 runs of a genuine (toy) argos package."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ctranslate2
import pytest

from tests.support.argos_models import build_argos_package, direct_translate, toy_translate
from translations.engine import NoTranslationPathError, TranslationEngine
from translations.models import InstalledModel, install_package_files, list_installed

# The engine's decoding options; the reference run must use the same ones.
REFERENCE_OPTIONS: dict[str, Any] = {
    "beam_size": 2,
    "length_penalty": 0.2,
    "max_decoding_length": 256,
    "replace_unknowns": True,
}
TIPS = [
    "Der Hund sieht die Katze.",
    "Ich habe ein rotes Auto gesehen!",
    "Die Polizei ist hier",
    "Ja",
    "Eine kleine Frau und ein Mann sehen den Hund?",
]


@pytest.fixture
def engine(installed_session: tuple[Path, InstalledModel]) -> TranslationEngine:
    packages_dir, _ = installed_session
    return TranslationEngine(packages_dir)


def test_batch_equals_direct_ctranslate2_run(
    engine: TranslationEngine, installed_session: tuple[Path, InstalledModel]
) -> None:
    _, model = installed_session
    expected = direct_translate(model.path, TIPS, **REFERENCE_OPTIONS)

    assert engine.translate_batch("de", TIPS) == expected
    # The toy model really translates, so the engine output is checkable by eye too.
    assert expected == [toy_translate(tip, "de", "en") for tip in TIPS]
    assert expected[0] == "The Dog sees the Cat."


def test_multi_sentence_text_is_split_translated_and_rejoined(
    engine: TranslationEngine, installed_session: tuple[Path, InstalledModel]
) -> None:
    _, model = installed_session
    text = "Der Hund sieht die Katze. Ich habe ein rotes Auto gesehen!\n\nJa, hier ist die Polizei."
    sentences = ["Der Hund sieht die Katze.", "Ich habe ein rotes Auto gesehen!", "Ja, hier ist die Polizei."]
    first, second, third = direct_translate(model.path, sentences, **REFERENCE_OPTIONS)

    assert engine.translate_batch("de", [text]) == [f"{first} {second}\n\n{third}"]


def test_all_sentences_of_all_texts_go_through_one_translate_batch_call(
    engine: TranslationEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[list[str]]] = []
    real_translator = ctranslate2.Translator

    class RecordingTranslator:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._translator = real_translator(*args, **kwargs)

        def translate_batch(self, source: list[list[str]], *args: Any, **kwargs: Any) -> Any:
            calls.append(source)
            return self._translator.translate_batch(source, *args, **kwargs)

    monkeypatch.setattr(ctranslate2, "Translator", RecordingTranslator)
    engine.close()  # drop any model loaded by another test

    texts = ["Der Hund. Die Katze!", "Ja. Der Hund.", "Hier ist ein Auto"]
    result = engine.translate_batch("de", texts)

    assert result == ["The Dog. The Cat!", "Yes. The Dog.", "Here is a Car"]
    assert len(calls) == 1
    # Four distinct sentences: "Der Hund." is translated once for both texts.
    assert len(calls[0]) == 4


def test_empty_inputs(engine: TranslationEngine) -> None:
    assert engine.translate_batch("de", []) == []
    assert engine.translate_batch("de", ["", "  \n\t ", "Hund"]) == ["", "", "Dog"]


def test_long_sentences_are_chunked_at_word_boundaries(
    installed_session: tuple[Path, InstalledModel],
) -> None:
    packages_dir, _ = installed_session
    engine = TranslationEngine(packages_dir, max_input_tokens=4, beam_size=1)
    text = "Der rote Hund und die kleine Katze sehen ein Auto und eine Frau"

    assert engine.translate_batch("de", [text]) == [toy_translate(text, "de", "en")]


def test_language_without_model(engine: TranslationEngine) -> None:
    assert engine.can_translate("de")
    assert engine.can_translate("DE-at")  # normalised to an argos code
    assert not engine.can_translate("fr")
    assert not engine.can_translate("en", "de")
    with pytest.raises(NoTranslationPathError):
        engine.translate_batch("fr", ["Le chien voit le chat."])
    # Same language: nothing to do, texts come back untouched.
    assert engine.can_translate("en")
    assert engine.translate_batch("en", [" As is. "]) == [" As is. "]


def test_reload_picks_up_new_packages_pivots_and_upgrades(packages_dir: Path, no_network: Path) -> None:
    engine = TranslationEngine(packages_dir)
    assert engine.translate_batch("de", ["Hund"]) == ["Dog"]
    assert not engine.can_translate("fr")

    fr_de = build_argos_package("fr", "de", "tiny")
    de_en_newer = build_argos_package("de", "en", "tiny", version="1.1", seed=7)
    install_package_files([fr_de, de_en_newer], packages_dir)

    assert not engine.can_translate("fr")  # not before reload()
    engine.reload()
    assert engine.can_translate("fr")
    # No fr->en package: the engine pivots fr->de->en, like argostranslate does.
    french = "Le chien noir voit la voiture."
    assert engine.translate_batch("fr", [french]) == [toy_translate(french, "fr", "en")]
    # The older de->en was replaced by the newer one, which is what the engine now uses.
    assert [(m.from_code, m.to_code, m.version) for m in list_installed(packages_dir)] == [
        ("de", "en", "1.1"),
        ("fr", "de", "1.0"),
    ]
    assert {m.version for m in engine.installed_models()} == {"1.0", "1.1"}
    assert engine.translate_batch("de", ["Hund"]) == ["Dog"]


def test_concurrent_use_from_threads(engine: TranslationEngine) -> None:
    expected = [toy_translate(tip, "de", "en") for tip in TIPS]

    def work(number: int) -> list[str]:
        if number % 4 == 0:
            engine.reload()
        return engine.translate_batch("de", TIPS)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(16)))

    assert all(result == expected for result in results)


def test_engine_uses_no_network(installed_session: tuple[Path, InstalledModel], no_network: Path) -> None:
    packages_dir, _ = installed_session
    engine = TranslationEngine(packages_dir)
    assert engine.translate_batch("de", TIPS)[0] == "The Dog sees the Cat."


def test_engine_process_never_imports_the_argos_nlp_stack(
    installed_session: tuple[Path, InstalledModel],
) -> None:
    packages_dir, _ = installed_session
    script = f"""
import json, sys
from pathlib import Path
from translations.engine import TranslationEngine
from translations.models import languages_without_path_to_english, list_installed
engine = TranslationEngine(Path({str(packages_dir)!r}))
output = engine.translate_batch("de", ["Der Hund sieht die Katze."])
languages_without_path_to_english(["de", "fr"], Path({str(packages_dir)!r}))
heavy = sorted(name for name in sys.modules
               if name.split(".")[0] in {{"torch", "stanza", "spacy", "minisbd", "onnxruntime", "argostranslate"}})
print(json.dumps({{"output": output, "heavy": heavy}}))
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report == {"output": ["The Dog sees the Cat."], "heavy": []}
