"""Rules an object's texts follow, whether they come from the import CLI or the dashboard."""

from __future__ import annotations

import re

MAX_QUESTION = 700  # the photo caption (1,024 characters) also holds the reference and the prompt
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def question_problem(question: str, hint: str | None) -> str | None:
    """Why a question (+ hint) cannot be shown in a photo caption, or None if it can."""
    if not question.strip() or len(question) + len(hint or "") > MAX_QUESTION:
        return f"question (+ hint) must be 1-{MAX_QUESTION} characters"
    return None
