"""The words moderators see most in English translations of an object's tips (contact details cut out)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from storage.pii import remove_contacts

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me might more most must my myself
    no nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very was
    we were what when where which while who whom why will with would you your yours yourself yourselves
    i'm it's don't didn't isn't wasn't i've i'd that's there's think know maybe saw seen see like looks look
    one two yes thing things really very much many get got
    """.split()
)


def top_words(texts: Iterable[str], count: int = 25, min_length: int = 3) -> list[tuple[str, int]]:
    """The `count` commonest words (lower-cased, stopwords and short words dropped), with counts.

    Contact details are cut out before counting, as they are masked everywhere else: no piece of a
    hidden e-mail address (a name, a domain) can show up here or in the search it links to.
    """
    counter: Counter[str] = Counter()
    for text in texts:
        counter.update(
            word
            for word in (match.group().lower().replace("’", "'") for match in _WORD.finditer(remove_contacts(text)))
            if len(word) >= min_length and word not in STOPWORDS
        )
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:count]
