"""Language codes and package routes (direct or through one pivot language).

Pure functions over `InstalledModel`s: no file access, no argostranslate import.
"""

from __future__ import annotations

from collections.abc import Iterable

from translations.packages import InstalledModel, version_key

MAX_HOPS = 2  # direct, or one pivot language (argostranslate pivots the same way)

# Codes a language detector or Telegram may give -> argostranslate's codes.
_CODE_ALIASES = {
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-sg": "zh",
    "zh-tw": "zt",
    "zh-hant": "zt",
    "zh-hk": "zt",
    "pt-br": "pb",
    "iw": "he",
    "in": "id",
    "nb": "no",
    "nn": "no",
}


def normalize_code(code: str) -> str:
    """`pt-BR` -> `pb`, `zh_TW` -> `zt`, `DE` -> `de`, `de-AT` -> `de` (argos codes)."""
    code = code.strip().lower().replace("_", "-")
    return _CODE_ALIASES.get(code) or _CODE_ALIASES.get(code.split("-", 1)[0]) or code.split("-", 1)[0]


def find_route(
    models: Iterable[InstalledModel], source: str, target: str, max_hops: int = MAX_HOPS
) -> list[InstalledModel] | None:
    """Packages to apply in order to get from `source` to `target`; [] if equal, None if
    impossible. Prefers the fewest hops, then the newest packages."""
    if source == target:
        return []
    best: dict[tuple[str, str], InstalledModel] = {}
    for model in models:
        pair = (model.from_code, model.to_code)
        if model.usable and (pair not in best or version_key(model.version) > version_key(best[pair].version)):
            best[pair] = model
    frontier: list[list[InstalledModel]] = [[]]
    for _ in range(max_hops):
        extended = []
        for route in frontier:
            here = route[-1].to_code if route else source
            visited = {source} | {m.to_code for m in route}
            for (start, end), model in sorted(best.items()):
                if start != here or end in visited:
                    continue
                if end == target:
                    return [*route, model]
                extended.append([*route, model])
        frontier = extended
    return None
