"""Detect the language of a tip.

Public entry point; the implementation lives in :mod:`translations.detection`.

Example::

    detector = LanguageDetector()
    result = detector.detect("Ich habe diese Tasche in Wien gesehen", hints=("en", "de-AT"))
    result.language, result.confidence, result.rule  # ("de", 1.0, "langdetect")
"""

from translations.detection import SUPPORTED_LANGUAGES, Detection, LanguageDetector, Tuning

__all__ = ["SUPPORTED_LANGUAGES", "Detection", "LanguageDetector", "Tuning"]
