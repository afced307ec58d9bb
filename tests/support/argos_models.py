"""Build genuine `.argosmodel` packages offline, for tests and benchmarks.

A package is what argostranslate downloads: a zip holding one directory with
`metadata.json`, a CTranslate2 model in `model/` and a `sentencepiece.model`. We make
every part with the real tools: sentencepiece's trainer on a generated corpus, and
CTranslate2's Python spec API (see `toy_transformer`) for the model.

Sizes:
    tiny  2+2 layers, d_model 128, 400 pieces; exact word-by-word toy translator for
          German, French, Spanish and English (builds in well under a second).
    base  transformer-base (6+6 layers, d_model 512, 8 heads, FFN 2048, 32k shared
          vocabulary, int8 like published argos models); seeded random weights around
          the same circuit, so decoding lengths are realistic (for benchmarks).

Builds are cached under the temp dir, keyed by every parameter that affects them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import sentencepiece as spm

from tests.support.toy_transformer import TransformerShape, build_spec

BUILDER_VERSION = 2
SPACE = "\u2581"  # sentencepiece's word-boundary marker

LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}
# One concept per row, in the order of LANGUAGE_ORDER; single words only so that each
# becomes one sentencepiece piece and the toy model can translate word by word.
LANGUAGE_ORDER = ("en", "de", "fr", "es")
LEXICON: tuple[tuple[str, str, str, str], ...] = (
    ("the", "der", "le", "el"),
    ("a", "ein", "un", "un"),
    ("dog", "hund", "chien", "perro"),
    ("cat", "katze", "chat", "gato"),
    ("man", "mann", "homme", "hombre"),
    ("woman", "frau", "femme", "mujer"),
    ("car", "auto", "voiture", "coche"),
    ("house", "haus", "maison", "casa"),
    ("street", "strasse", "rue", "calle"),
    ("bag", "tasche", "sac", "bolsa"),
    ("photo", "foto", "photo", "foto"),
    ("police", "polizei", "police", "policia"),
    ("night", "nacht", "nuit", "noche"),
    ("red", "rot", "rouge", "rojo"),
    ("blue", "blau", "bleu", "azul"),
    ("green", "gruen", "vert", "verde"),
    ("black", "schwarz", "noir", "negro"),
    ("big", "gross", "grand", "grande"),
    ("small", "klein", "petit", "chico"),
    ("sees", "sieht", "voit", "ve"),
    ("is", "ist", "est", "es"),
    ("have", "habe", "ai", "tengo"),
    ("seen", "gesehen", "vu", "visto"),
    ("i", "ich", "je", "yo"),
    ("we", "wir", "nous", "nosotros"),
    ("and", "und", "et", "y"),
    ("not", "nicht", "pas", "no"),
    ("very", "sehr", "tres", "muy"),
    ("here", "hier", "ici", "aqui"),
    ("now", "jetzt", "maintenant", "ahora"),
    ("yes", "ja", "oui", "si"),
)
# Inflected or alternative forms, mapped to the canonical word of the same language.
ALIASES: dict[str, dict[str, str]] = {
    "de": {
        "die": "der",
        "das": "der",
        "den": "der",
        "eine": "ein",
        "einen": "ein",
        "rote": "rot",
        "rotes": "rot",
        "roten": "rot",
        "kleine": "klein",
        "grosse": "gross",
    },
    "fr": {"la": "le", "les": "le", "une": "un", "rouges": "rouge", "petite": "petit"},
    "es": {"la": "el", "los": "el", "una": "un", "roja": "rojo", "grandes": "grande"},
    "en": {"an": "a"},
}
PUNCTUATION = (".", "!", "?", ",", "")


@dataclass(frozen=True)
class PackageSize:
    """Everything that differs between the `tiny` and `base` builds."""

    shape: TransformerShape
    vocab_size: int
    filler_words: int  # pseudo-words added to the corpus so big vocabularies fill up
    quantization: str | None


SIZES: dict[str, PackageSize] = {
    "tiny": PackageSize(
        TransformerShape(
            d_model=128,
            num_heads=2,
            ffn_dim=256,
            encoder_layers=2,
            decoder_layers=2,
            code_dims=32,
            num_frequencies=16,
            max_positions=512,
        ),
        vocab_size=400,
        filler_words=0,
        quantization=None,
    ),
    "base": PackageSize(
        TransformerShape(
            d_model=512,
            num_heads=8,
            ffn_dim=2048,
            encoder_layers=6,
            decoder_layers=6,
            code_dims=128,
            num_frequencies=32,
            max_positions=1024,
            input_noise=0.02,
            output_noise=0.002,
        ),
        vocab_size=32000,
        filler_words=60000,
        quantization="int8",
    ),
}


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "tracebot-argos-models"


def words(code: str) -> list[str]:
    """The canonical toy vocabulary of one language, lower-case."""
    column = LANGUAGE_ORDER.index(code)
    return [row[column] for row in LEXICON]


def word_table(from_code: str, to_code: str) -> dict[str, str]:
    """Lower-case source word (canonical or alias) -> canonical target word."""
    table = dict(zip(words(from_code), words(to_code), strict=True))
    for alias, canonical in ALIASES.get(from_code, {}).items():
        table[alias] = table[canonical]
    return table


def toy_translate(text: str, from_code: str, to_code: str) -> str:
    """What the tiny model should produce: the lexicon applied word by word."""
    table = word_table(from_code, to_code)

    def convert(word: str) -> str:
        target = table.get(word.lower(), word)
        return target.capitalize() if word[:1].isupper() else target

    out, current = [], ""
    for char in text:
        if char.isalpha():
            current += char
            continue
        out.append(convert(current) if current else "")
        out.append(char)
        current = ""
    out.append(convert(current) if current else "")
    return "".join(out)


def toy_sentences(code: str, count: int, seed: int, *, min_words: int = 3, max_words: int = 9) -> list[str]:
    """`count` seeded sentences of random toy words with some capitals and punctuation."""
    rng = random.Random(f"{seed}-{code}")
    vocabulary = words(code) + sorted(ALIASES.get(code, {}))
    sentences = []
    for _ in range(count):
        chosen = [rng.choice(vocabulary) for _ in range(rng.randint(min_words, max_words))]
        chosen[0] = chosen[0].capitalize()
        sentences.append(" ".join(chosen) + rng.choice(PUNCTUATION[:3]))
    return sentences


def build_argos_package(
    from_code: str = "de",
    to_code: str = "en",
    size: str = "tiny",
    *,
    seed: int = 0,
    version: str = "1.0",
    cache_dir: Path | None = None,
) -> Path:
    """Path of a (cached) `<from>_<to>.argosmodel` built with the given parameters."""
    if from_code not in LANGUAGE_NAMES or to_code not in LANGUAGE_NAMES or from_code == to_code:
        raise ValueError(f"no toy lexicon for {from_code}->{to_code}")
    spec_size = SIZES[size]
    key_source = json.dumps(
        [
            BUILDER_VERSION,
            from_code,
            to_code,
            size,
            asdict(spec_size.shape),
            spec_size.vocab_size,
            spec_size.filler_words,
            spec_size.quantization,
            seed,
            version,
            LEXICON,
        ],
        sort_keys=True,
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    target = (cache_dir or default_cache_dir()) / key / f"{from_code}_{to_code}.argosmodel"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        package_file = _build(from_code, to_code, spec_size, seed, version, Path(scratch))
        # Atomic publish: concurrent builders may race, but readers never see a partial zip.
        os.replace(package_file, target)
    return target


def package_dir_name(from_code: str, to_code: str, version: str) -> str:
    """Directory name inside the zip, as in published packages."""
    return f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"


def _build(from_code: str, to_code: str, size: PackageSize, seed: int, version: str, scratch: Path) -> Path:
    root = scratch / package_dir_name(from_code, to_code, version)
    root.mkdir()
    processor = _train_sentencepiece(from_code, to_code, size, seed, root / "sentencepiece.model")
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    mapping = _piece_mapping(from_code, to_code, set(vocabulary))
    spec = build_spec(vocabulary, mapping, size.shape, seed)
    spec.optimize(quantization=size.quantization)
    (root / "model").mkdir()
    spec.save(str(root / "model"))
    metadata = {
        "package_version": version,
        "argos_version": "1.9",
        "from_code": from_code,
        "from_name": LANGUAGE_NAMES[from_code],
        "to_code": to_code,
        "to_name": LANGUAGE_NAMES[to_code],
        "type": "translate",
        "links": [],
        "dependencies": [],
    }
    (root / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (root / "README.md").write_text(
        f"# Toy {LANGUAGE_NAMES[from_code]} -> {LANGUAGE_NAMES[to_code]} model\n\n"
        "Generated offline by tests/support/argos_models.py; translates word by word.\n",
        encoding="utf-8",
    )
    package_file = scratch / f"{from_code}_{to_code}.argosmodel"
    with zipfile.ZipFile(package_file, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(root.rglob("*")):
            archive.write(path, path.relative_to(scratch).as_posix())
    shutil.rmtree(root)
    return package_file


def _corpus(from_code: str, to_code: str, size: PackageSize, seed: int) -> Iterator[str]:
    for code in (from_code, to_code):
        yield from toy_sentences(code, 4000, seed)
        # Lower-case sentence starts too, so both spellings become whole pieces.
        yield from (s.lower() for s in toy_sentences(code, 1000, seed + 1))
    if size.filler_words:
        yield from _filler_sentences(size.filler_words, seed)


def _filler_sentences(count: int, seed: int) -> Iterator[str]:
    """Zipf-distributed pseudo-words: enough distinct strings for a 32k vocabulary."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiouy"]
    syllables += [s + e for s in syllables for e in "nrst"]
    vocabulary = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(count)]
    cumulative: list[float] = []
    total = 0.0
    for rank in range(count):
        total += 1.0 / (rank + 1)
        cumulative.append(total)
    for _ in range(count):
        chosen = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(4, 16))
        yield " ".join(chosen) + rng.choice(PUNCTUATION)


def _train_sentencepiece(
    from_code: str, to_code: str, size: PackageSize, seed: int, destination: Path
) -> spm.SentencePieceProcessor:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=_corpus(from_code, to_code, size, seed),
        model_writer=model,
        model_type="bpe",
        vocab_size=size.vocab_size,
        hard_vocab_limit=False,
        character_coverage=1.0,
        shuffle_input_sentence=False,
        num_threads=min(4, os.cpu_count() or 1),
        minloglevel=2,
    )
    destination.write_bytes(model.getvalue())
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def _piece_mapping(from_code: str, to_code: str, vocabulary: set[str]) -> dict[str, str]:
    """Source piece -> target piece for every toy word (and its capitalised form)."""
    mapping = {}
    for source, target in word_table(from_code, to_code).items():
        for src, tgt in ((source, target), (source.capitalize(), target.capitalize())):
            src_piece, tgt_piece = SPACE + src, SPACE + tgt
            missing = {src_piece, tgt_piece} - vocabulary
            if missing:
                raise RuntimeError(f"sentencepiece split toy words {sorted(missing)}; raise vocab_size")
            mapping[src_piece] = tgt_piece
    return mapping


def direct_translate(
    package_dir: Path, sentences: Sequence[str], *, compute_type: str = "auto", **options: object
) -> list[str]:
    """Reference path for tests: plain sentencepiece + `ctranslate2.Translator`."""
    import ctranslate2

    processor = spm.SentencePieceProcessor(model_file=str(package_dir / "sentencepiece.model"))
    translator = ctranslate2.Translator(str(package_dir / "model"), device="cpu", compute_type=compute_type)
    tokens = processor.encode(list(sentences), out_type=str)
    results = translator.translate_batch(tokens, **options)
    return [processor.decode(result.hypotheses[0]) for result in results]
