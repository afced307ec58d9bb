"""Language detection for tip texts (see :mod:`translations.detect`)."""

from translations.detection.detector import (
    SUPPORTED_LANGUAGES,
    Detection,
    LanguageDetector,
    Tuning,
)

__all__ = ["SUPPORTED_LANGUAGES", "Detection", "LanguageDetector", "Tuning"]
