"""Benchmark the tip language detector on the langid dev set.

Usage::

    python -m bench.langid [--data DIR] [--hint-accuracy 0.7] [--seed 0] [--no-baseline]

The data directory defaults to ``$LANGID_DEV`` or else ``../shared/langid-dev``
relative to the repository root. It holds ``<lang>.txt`` (full sentences),
``short/<lang>.txt`` (3-6 words) and ``word-pairs/<lang>.txt``.

Hints are simulated: with probability ``--hint-accuracy`` the hint is the
true language, otherwise a uniformly random *other* supported language
(seeded, so runs are comparable). The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from translations.detect import SUPPORTED_LANGUAGES, LanguageDetector

VARIANTS: tuple[tuple[str, str], ...] = (("sentences", ""), ("short", "short"), ("word-pairs", "word-pairs"))
REPO_ROOT = Path(__file__).resolve().parent.parent

Sample = tuple[str, str]  # (true language, text)
Predictor = Callable[[str, str | None], str | None]


def default_data_dir() -> Path:
    """``$LANGID_DEV`` if set, else ``<repo>/../shared/langid-dev``."""
    env = os.environ.get("LANGID_DEV")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "langid-dev").resolve()


def load_variant(data_dir: Path, subdir: str, languages: Sequence[str]) -> list[Sample]:
    """Read one variant: every non-empty line of ``<subdir>/<lang>.txt``."""
    samples: list[Sample] = []
    for lang in languages:
        path = data_dir / subdir / f"{lang}.txt"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                samples.append((lang, line))
    return samples


def simulate_hints(samples: Sequence[Sample], languages: Sequence[str], accuracy: float, seed: int) -> list[str]:
    """One hint per sample: right with probability ``accuracy``, else another language."""
    rng = random.Random(seed)
    hints = []
    for lang, _ in samples:
        if rng.random() < accuracy:
            hints.append(lang)
        else:
            hints.append(rng.choice([other for other in languages if other != lang]))
    return hints


@dataclass
class Score:
    """Accuracy counts, overall and per language."""

    correct: Counter[str]
    total: Counter[str]

    @property
    def accuracy(self) -> float:
        """Share of samples classified correctly."""
        return sum(self.correct.values()) / max(1, sum(self.total.values()))


def evaluate(samples: Sequence[Sample], hints: Sequence[str | None], predict: Predictor) -> Score:
    """Run ``predict`` on every sample and count the hits."""
    correct: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for (lang, text), hint in zip(samples, hints, strict=True):
        total[lang] += 1
        correct[lang] += predict(text, hint) == lang
    return Score(correct, total)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def langdetect_predictors() -> tuple[Predictor, Predictor]:
    """Plain langdetect (all 55 profiles, seeded) and the same with a naive hint rule."""
    # Imported here so that its 55 profiles never count towards our RSS.
    import langdetect
    from langdetect.lang_detect_exception import LangDetectException

    langdetect.DetectorFactory.seed = 0

    def top(text: str) -> tuple[str | None, float]:
        try:
            best = langdetect.detect_langs(text)[0]
        except LangDetectException:
            return None, 0.0
        return str(best.lang), float(best.prob)

    def plain(text: str, hint: str | None) -> str | None:
        return top(text)[0]

    def naive(text: str, hint: str | None) -> str | None:
        # The "naive hint": trust the hint whenever langdetect is unsure or
        # answers with a language we do not support.
        lang, prob = top(text)
        if hint and (lang not in SUPPORTED_LANGUAGES or prob < 0.9):
            return hint
        return lang

    return plain, naive


def _row(name: str, cells: Sequence[str]) -> str:
    return f"{name:<34}" + "".join(f"{c:>17}" for c in cells)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.langid``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--hint-accuracy", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true", help="skip the langdetect baseline")
    args = parser.parse_args(argv)

    languages = SUPPORTED_LANGUAGES
    data = {name: load_variant(args.data, sub, languages) for name, sub in VARIANTS}
    if not any(data.values()):
        print(f"no dev data under {args.data}", file=sys.stderr)
        return 2
    hints = {name: simulate_hints(samples, languages, args.hint_accuracy, args.seed) for name, samples in data.items()}
    no_hints: dict[str, list[str | None]] = {name: [None] * len(s) for name, s in data.items()}

    rss_start = peak_rss_mb()
    started = time.perf_counter()
    detector = LanguageDetector(languages)
    detector.warm_up()
    load_s = time.perf_counter() - started
    rss_loaded = peak_rss_mb()

    def ours(text: str, hint: str | None) -> str | None:
        return detector.detect(text, (hint,)).language

    results: dict[tuple[str, str], Score] = {}
    timed = 0
    started = time.perf_counter()
    for name, samples in data.items():
        results[(name, "none")] = evaluate(samples, no_hints[name], ours)
        results[(name, "hint")] = evaluate(samples, hints[name], ours)
        timed += 2 * len(samples)
    elapsed = time.perf_counter() - started
    rss_after = peak_rss_mb()

    pct = args.hint_accuracy * 100
    header = [f"{name} {kind}" for name, _ in VARIANTS for kind in ("none", f"{pct:.0f}%")]
    print(f"data: {args.data}   hint accuracy: {pct:.0f}%   seed: {args.seed}")
    print()
    print(_row("accuracy", header))
    print(_row("tracebot detector", [_fmt(results[(n, k)]) for n, _ in VARIANTS for k in ("none", "hint")]))

    if not args.no_baseline:
        plain, naive = langdetect_predictors()
        base = [_fmt(evaluate(data[n], no_hints[n], plain)) for n, _ in VARIANTS]
        cells = [cell for pair in zip(base, ["-"] * len(base), strict=True) for cell in pair]
        print(_row("langdetect (55 profiles, seeded)", cells))
        cells = []
        for name, _ in VARIANTS:
            cells += ["-", _fmt(evaluate(data[name], hints[name], naive))]
        print(_row("langdetect + naive hint", cells))

    print()
    print(f"per-language accuracy, short texts with {pct:.0f}% hint:")
    short = results[("short", "hint")]
    line = []
    for lang in languages:
        if short.total[lang]:
            line.append(f"{lang} {100 * short.correct[lang] / short.total[lang]:5.1f}")
        if len(line) == 7:
            print("  " + "   ".join(line))
            line = []
    if line:
        print("  " + "   ".join(line))
    print()
    print(f"model load: {load_s:.2f} s")
    print(
        f"peak RSS: {rss_start:.1f} MiB before loading, {rss_loaded:.1f} MiB after loading, "
        f"{rss_after:.1f} MiB after the run (detector only, before any baseline)"
    )
    print(f"throughput: {timed / elapsed:,.0f} texts/s ({timed} detections, 1 thread)")
    return 0


def _fmt(score: Score) -> str:
    return f"{100 * score.accuracy:.1f}%"


if __name__ == "__main__":
    raise SystemExit(main())
