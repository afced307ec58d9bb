"""Benchmark: batched `TranslationEngine` vs `argostranslate.translate.translate()` per text.

Usage::

    python -m bench.argos_batch [--texts 64] [--repeats 5] [--seed 0]

Builds (or reuses from the temp-dir cache) a transformer-base-sized argos package
offline (`tests.support.argos_models`, size "base": 6+6 layers, d_model 512, 8 heads,
FFN 2048, 32k shared vocabulary, int8, seeded random weights around a copy circuit so
that decoding stops at realistic lengths), installs it into a temp packages dir through
our installer (argos's `install_from_path`, in-process here because this process has
imported `argostranslate.translate`), and translates the same short German-like tips:

* argos: `argostranslate.translate.translate(text, "de", "en")` once per text, through
  its installed-languages path, with argos's own beam size (4) and again with 2
  (`argostranslate.settings.beam_size`, which argos reads at every call);
* ours: one `TranslationEngine.translate_batch("de", texts)` call, with a few settings.

Fairness: the same model files, the same sentence splitter (argos 1.11 would otherwise
use MiniSBD, which downloads a model on first use - we swap its per-package
sentencizer for ours), the same decoding length cap (argos 1.11 passes no
`max_decoding_length`, so CTranslate2's default of 256 applies; ours is 256), and the
same CTranslate2 threading defaults unless a row says otherwise. All network access is
blocked during the run; any attempt is reported. Each figure is the median of
`--repeats` interleaved passes after a warm-up. Nothing passes or fails.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import netguard
from tests.support.argos_models import build_argos_package, toy_sentences
from translations.engine import TranslationEngine
from translations.models import configure_argos_environment, install_package_file
from translations.sentences import split_sentences

ARGOS_DEFAULT_BEAM = 4  # argostranslate.settings.beam_size unless ARGOS_BEAM_SIZE is set


@dataclass(frozen=True)
class Measurement:
    label: str
    beam: int
    wall: float  # seconds, median of the passes
    cpu: float  # process CPU seconds (all threads), median of the passes
    outputs: list[str]


@dataclass(frozen=True)
class Runner:
    label: str
    beam: int
    run: Callable[[Sequence[str]], list[str]]


class RegexSentencizer:
    """Stands in for argos's MiniSBD sentencizer (which would download a model)."""

    def split_sentences(self, text: str) -> list[str]:
        return [sentence.text for sentence in split_sentences(text)]


def make_tips(count: int, seed: int) -> list[str]:
    """`count` short tips of 1-3 sentences of 4-14 toy German words each (seeded)."""
    rng = random.Random(seed)
    sentences = iter(toy_sentences("de", count * 3, seed, min_words=4, max_words=14))
    return [" ".join(next(sentences) for _ in range(rng.randint(1, 3))) for _ in range(count)]


def measure(runners: Sequence[Runner], tips: Sequence[str], warmup: Sequence[str], repeats: int) -> list[Measurement]:
    """Median pass of each runner; passes are interleaved so that background load on a
    shared machine hits every runner alike."""
    for runner in runners:
        runner.run(warmup)  # loads the model; argos also builds its language graph
    passes: dict[str, list[tuple[float, float, list[str]]]] = {r.label: [] for r in runners}
    for _ in range(repeats):
        for runner in runners:
            wall, cpu = time.perf_counter(), time.process_time()
            outputs = runner.run(tips)
            passes[runner.label].append((time.perf_counter() - wall, time.process_time() - cpu, outputs))
    results = []
    for runner in runners:
        runs = passes[runner.label]
        wall = statistics.median(p[0] for p in runs)
        cpu = statistics.median(p[1] for p in runs)
        results.append(Measurement(runner.label, runner.beam, wall, cpu, runs[-1][2]))
    return results


def patch_argos_sentencizers(argos_translate: Any) -> int:
    """Give every installed argos PackageTranslation our offline sentence splitter."""
    patched = 0
    for language in argos_translate.get_installed_languages():
        for translation in language.translations_from:
            underlying = getattr(translation, "underlying", None)
            if underlying is not None and hasattr(underlying, "sentencizer"):
                underlying.sentencizer = RegexSentencizer()
                patched += 1
    return patched


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    package = build_argos_package("de", "en", "base")
    print(f"package: {package} ({package.stat().st_size / 1e6:.0f} MB, ready in {time.perf_counter() - started:.1f} s)")
    attempts_log = Path(tempfile.mkdtemp(prefix="argos-bench-")) / "network-attempts.log"
    restore_network = netguard.install(str(attempts_log))
    with tempfile.TemporaryDirectory(prefix="argos-bench-") as scratch:
        packages_dir = Path(scratch) / "packages"
        configure_argos_environment(packages_dir)  # before argostranslate is imported
        started = time.perf_counter()
        import argostranslate.settings
        import argostranslate.translate

        print(f"import argostranslate.translate: {time.perf_counter() - started:.1f} s")
        install_package_file(package, packages_dir)
        print(f"argos sentencizers replaced: {patch_argos_sentencizers(argostranslate.translate)}")

        tips = make_tips(args.texts, args.seed)
        warmup = make_tips(4, args.seed + 1)
        pieces = sum(len(s.text.split()) for tip in tips for s in split_sentences(tip))
        sentences = sum(len(split_sentences(tip)) for tip in tips)
        print(f"{len(tips)} tips, {sentences} sentences, {pieces} words; {args.repeats} passes each, median shown\n")

        def argos_runner(beam: int) -> Runner:
            def run(texts: Sequence[str]) -> list[str]:
                argostranslate.settings.beam_size = beam  # read by argos at every call
                return [argostranslate.translate.translate(text, "de", "en") for text in texts]

            suffix = " (argos default)" if beam == ARGOS_DEFAULT_BEAM else ""
            return Runner("argos translate() per text" + suffix, beam, run)

        def engine_runner(label: str, beam: int, inter_threads: int = 1, intra_threads: int = 0) -> Runner:
            engine = TranslationEngine(
                packages_dir,
                beam_size=beam,
                max_decoding_length=256,
                inter_threads=inter_threads,
                intra_threads=intra_threads,
            )
            return Runner(label, beam, lambda texts: engine.translate_batch("de", texts))

        runners = [
            argos_runner(ARGOS_DEFAULT_BEAM),
            argos_runner(2),
            engine_runner("ours, batched", 4),
            engine_runner("ours, batched (our default)", 2),
            engine_runner("ours, batched, inter 2 x intra 1", 2, inter_threads=2, intra_threads=1),
            engine_runner("ours, greedy, inter 2 x intra 1", 1, inter_threads=2, intra_threads=1),
        ]
        results = measure(runners, tips, warmup, args.repeats)
    restore_network()
    report(results, len(tips))
    attempts = attempts_log.read_text() if attempts_log.exists() else ""
    print(f"\nnetwork attempts during the run: {len(attempts.splitlines())}")


def report(results: list[Measurement], count: int) -> None:
    argos = {m.beam: m for m in results if m.label.startswith("argos")}
    baseline = argos[ARGOS_DEFAULT_BEAM]
    columns = (
        "run",
        "beam",
        "wall s",
        "CPU s",
        "tips/s",
        "x argos b4 (wall)",
        "x same beam (wall)",
        "x same beam (CPU)",
    )
    widths = (42, 4, 6, 5, 6, 17, 18, 17)
    print("| " + " | ".join(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for m in results:
        same = argos.get(m.beam)
        cells = (
            m.label,
            str(m.beam),
            f"{m.wall:.2f}",
            f"{m.cpu:.2f}",
            f"{count / m.wall:.1f}",
            f"{baseline.wall / m.wall:.1f}",
            f"{same.wall / m.wall:.1f}" if same else "-",
            f"{same.cpu / m.cpu:.1f}" if same else "-",
        )
        print(
            "| "
            + " | ".join(
                f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )
    print()
    for m in results[len(argos) :]:
        same = argos.get(m.beam)
        if same is not None:
            agree = sum(a == b for a, b in zip(same.outputs, m.outputs, strict=True))
            print(f"identical outputs, {m.label} vs argos beam {m.beam}: {agree}/{count}")


if __name__ == "__main__":
    main()
