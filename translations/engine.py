"""Batched, offline translation of tips to English with installed argos packages.

`TranslationEngine` runs argostranslate packages (CTranslate2 model + sentencepiece)
directly instead of going through `argostranslate.translate`, which translates one
text at a time and imports stanza/torch/MiniSBD (and MiniSBD downloads models on
first use). Per call it:

1. splits every text into sentences (`translations.sentences`, no models needed),
2. de-duplicates them, encodes all of them with the package's sentencepiece model
   and cuts over-long ones into chunks of at most `max_input_tokens` pieces,
3. translates everything in ONE `Translator.translate_batch` call (CTranslate2 sorts
   by length and batches `max_batch_size` sentences at a time),
4. decodes and re-joins each text with its original sentence/paragraph breaks.

With no direct package it pivots through another language (X->Y->en), as argos does.

Blocking and CPU-heavy: call it from a worker thread (`asyncio.to_thread`) or a
process-pool worker, never on the event loop. It is thread-safe: CTranslate2 releases
the GIL and queues concurrent requests on its own `inter_threads` workers. To use a
process pool, construct the engine inside each worker process (it is not picklable).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from translations.models import ENGLISH, InstalledModel, list_installed
from translations.routing import MAX_HOPS, find_route, normalize_code
from translations.sentences import join_sentences, split_sentences

if TYPE_CHECKING:  # imported when a model is first loaded: 7 MiB a bot without models never needs
    import ctranslate2
    import sentencepiece as spm

log = logging.getLogger(__name__)

# argostranslate 1.11's decoding options (argostranslate.translate.apply_packaged_translation)
# that we keep, so our output matches argos's for the same beam size.
_LENGTH_PENALTY = 0.2
_WORD_START = "\u2581"  # sentencepiece marks the first piece of every word with it


class TranslationError(Exception):
    """A model could not be loaded or run."""


class NoTranslationPathError(TranslationError, LookupError):
    """No installed package (or pivot pair) translates between the two languages."""


@dataclass(frozen=True)
class _LoadedModel:
    model: InstalledModel
    translator: ctranslate2.Translator
    processor: spm.SentencePieceProcessor


class TranslationEngine:
    """Translate batches of texts with the argos packages installed in `packages_dir`."""

    def __init__(
        self,
        packages_dir: Path,
        *,
        beam_size: int = 2,
        max_decoding_length: int = 256,
        intra_threads: int = 0,
        inter_threads: int = 1,
        max_batch_size: int = 32,
        max_input_tokens: int = 200,
        compute_type: str = "auto",
        device: str = "cpu",
        max_loaded_models: int = 8,
    ) -> None:
        """Scan `packages_dir`; models are loaded lazily, once per package.

        beam_size: 1 is greedy (fastest); argos uses 4.
        max_decoding_length: cap on output pieces per sentence chunk (CTranslate2's
            default, which argos 1.11 relies on, is 256).
        intra_threads / inter_threads: CTranslate2 threads per translation / parallel
            translations (0 intra = CTranslate2's default).
        max_batch_size: sentences per CTranslate2 batch.
        max_input_tokens: longer sentences are translated in chunks of this many pieces,
            so a run-on message neither hits the output cap nor costs quadratic time.
        max_loaded_models: least recently used models beyond this are unloaded.
        """
        if beam_size < 1 or max_decoding_length < 1 or max_batch_size < 1 or max_input_tokens < 1:
            raise ValueError("beam_size, max_decoding_length, max_batch_size and max_input_tokens must be >= 1")
        self.packages_dir = Path(packages_dir)
        self.beam_size = beam_size
        self.max_decoding_length = max_decoding_length
        self.intra_threads = intra_threads
        self.inter_threads = inter_threads
        self.max_batch_size = max_batch_size
        self.max_input_tokens = max_input_tokens
        self.compute_type = compute_type
        self.device = device
        self.max_loaded_models = max(1, max_loaded_models)
        self._lock = threading.Lock()  # guards _installed and _loaded
        self._load_lock = threading.Lock()  # one model load at a time (loads are rare and heavy)
        self._installed: list[InstalledModel] = []
        self._loaded: OrderedDict[Path, _LoadedModel] = OrderedDict()
        self.reload()

    def reload(self) -> None:
        """Re-scan installed packages (after an install/uninstall); unload removed ones."""
        installed = [m for m in list_installed(self.packages_dir) if m.usable]
        with self._lock:
            self._installed = installed
            for path in [p for p, loaded in self._loaded.items() if loaded.model not in installed]:
                # In-flight translations keep their reference; memory is freed after them.
                del self._loaded[path]

    def installed_models(self) -> list[InstalledModel]:
        """The usable packages found by the last scan."""
        with self._lock:
            return list(self._installed)

    def can_translate(self, source: str, target: str = ENGLISH) -> bool:
        """Whether texts in `source` can be translated to `target` (True if equal)."""
        return self._route(source, target) is not None

    def translate_batch(self, source: str, texts: Sequence[str], target: str = ENGLISH) -> list[str]:
        """Translate `texts` from `source` to `target`; one result per text, in order.

        Blank texts give "". Same source and target returns the texts unchanged.
        Raises NoTranslationPathError if no installed package (chain) covers the pair, and
        TranslationError if a model fails. Blocking - see the module docstring.
        """
        texts = list(texts)
        route = self._route(source, target)
        if route is None:
            raise NoTranslationPathError(f"no installed translation from {source!r} to {target!r}")
        for model in route:
            if not texts:
                break
            texts = self._translate_texts(self._load(model), texts)
        return texts

    def close(self) -> None:
        """Unload all models (a later call loads them again)."""
        with self._lock:
            self._loaded.clear()

    def _route(self, source: str, target: str) -> list[InstalledModel] | None:
        source, target = normalize_code(source), normalize_code(target)
        with self._lock:
            installed = self._installed
        return find_route(installed, source, target, MAX_HOPS)

    def _load(self, model: InstalledModel) -> _LoadedModel:
        with self._lock:
            loaded = self._loaded.get(model.path)
            if loaded is not None and loaded.model == model:
                self._loaded.move_to_end(model.path)
                return loaded
        with self._load_lock:
            with self._lock:  # another thread may have loaded it while we waited
                loaded = self._loaded.get(model.path)
                if loaded is not None and loaded.model == model:
                    return loaded
            import ctranslate2
            import sentencepiece as spm

            try:
                translator = ctranslate2.Translator(
                    str(model.model_dir),
                    device=self.device,
                    compute_type=self.compute_type,
                    inter_threads=self.inter_threads,
                    intra_threads=self.intra_threads,
                )
                processor = spm.SentencePieceProcessor(model_file=str(model.sentencepiece_model))
            except (RuntimeError, ValueError, OSError) as exc:
                raise TranslationError(f"cannot load {model.path.name}: {exc}") from exc
            loaded = _LoadedModel(model, translator, processor)
            log.info("loaded translation model %s (%s->%s)", model.path.name, model.from_code, model.to_code)
            with self._lock:
                self._loaded[model.path] = loaded
                while len(self._loaded) > self.max_loaded_models:
                    self._loaded.popitem(last=False)
            return loaded

    def _translate_texts(self, loaded: _LoadedModel, texts: list[str]) -> list[str]:
        plans = [split_sentences(text) for text in texts]
        # Tips repeat ("Hello", "Thank you"): translate each distinct sentence once.
        unique = list(dict.fromkeys(s.text for plan in plans for s in plan))
        translated = dict(zip(unique, self._translate_sentences(loaded, unique), strict=True))
        return [join_sentences(plan, [translated[s.text] for s in plan]) for plan in plans]

    def _translate_sentences(self, loaded: _LoadedModel, sentences: list[str]) -> list[str]:
        if not sentences:
            return []
        encoded: list[list[str]] = loaded.processor.encode(sentences, out_type=str)
        chunks: list[list[str]] = []
        owners: list[int] = []
        for index, pieces in enumerate(encoded):
            for chunk in _chunk_pieces(pieces, self.max_input_tokens):
                chunks.append(chunk)
                owners.append(index)
        outputs: list[list[str]] = [[] for _ in sentences]
        if chunks:
            prefix = loaded.model.target_prefix
            try:
                results = loaded.translator.translate_batch(
                    chunks,
                    target_prefix=[[prefix]] * len(chunks) if prefix else None,
                    max_batch_size=self.max_batch_size,
                    batch_type="examples",
                    beam_size=self.beam_size,
                    num_hypotheses=1,
                    length_penalty=_LENGTH_PENALTY,
                    max_decoding_length=self.max_decoding_length,
                    replace_unknowns=True,
                )
            except (RuntimeError, ValueError) as exc:
                raise TranslationError(f"{loaded.model.path.name}: {exc}") from exc
            for owner, result in zip(owners, results, strict=True):
                outputs[owner].append(_decode(loaded, result.hypotheses[0]))
        return [" ".join(part for part in parts if part) for parts in outputs]


def _chunk_pieces(pieces: list[str], limit: int) -> list[list[str]]:
    """Split a piece sequence into chunks of <= limit, preferring word starts as cuts."""
    chunks: list[list[str]] = []
    start = 0
    while len(pieces) - start > limit:
        cut = start + limit
        # Back up to the start of a word unless that would leave a tiny chunk.
        for candidate in range(cut, start + limit // 2, -1):
            if pieces[candidate].startswith(_WORD_START):
                cut = candidate
                break
        chunks.append(pieces[start:cut])
        start = cut
    if start < len(pieces):
        chunks.append(pieces[start:])
    return chunks


def _decode(loaded: _LoadedModel, pieces: list[str]) -> str:
    prefix = loaded.model.target_prefix
    if prefix and pieces and pieces[0] == prefix:
        pieces = pieces[1:]
    text: str = loaded.processor.decode(pieces)
    return text.strip()
