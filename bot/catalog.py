"""`tracebot objects import DIR`: load a catalog folder (images + `catalog.toml`) idempotently.

Format (see README):

    [[objects]]
    reference = "TAO-0001"          # unique, e.g. TAO-0001
    image = "mug.png"               # path relative to the folder (PNG, JPEG or WebP)
    question = "Where is this mug sold?"
    hint = "Hand-painted, about 10 cm tall."   # optional

    [objects.translations.de]        # optional, per language: shown to reporters using it
    question = "Wo wird diese Tasse verkauft?"

    [[campaigns]]                    # optional
    code = "spring26"                # deep link: t.me/<bot>?start=c-spring26
    title = "Spring 2026 appeal"
    objects = ["TAO-0001"]
"""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass
from pathlib import Path

from handlers.deeplinks import CAMPAIGN_CODE, OBJECT_REFERENCE
from storage.catalog_rules import LANGUAGE_CODE, MAX_QUESTION
from storage.images import MAX_IMAGE_BYTES, ImageError, clean_image, store_clean_image
from storage.uow import Database


class CatalogError(Exception):
    """The catalog folder is not usable; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    reference: str
    question: str
    hint: str | None
    image: Path
    translations: dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class CampaignEntry:
    code: str
    title: str
    objects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    campaigns: int


def read_catalog(folder: Path) -> tuple[list[ObjectEntry], list[CampaignEntry]]:
    """Parse and validate `catalog.toml` (blocking file I/O)."""
    path = folder / "catalog.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    objects: list[ObjectEntry] = []
    for index, raw in enumerate(data.get("objects", []), start=1):
        where = f"{path}: objects #{index}"
        reference = str(raw.get("reference", "")).strip().upper()
        question = str(raw.get("question", "")).strip()
        hint = str(raw["hint"]).strip() if raw.get("hint") else None
        if not OBJECT_REFERENCE.match(reference):
            raise CatalogError(f"{where}: reference {reference!r} must look like TAO-0001")
        if not question or len(question) + len(hint or "") > MAX_QUESTION:
            raise CatalogError(f"{where}: question (+ hint) must be 1-{MAX_QUESTION} characters")
        image = (folder / str(raw.get("image", ""))).resolve()
        if not image.is_relative_to(folder.resolve()) or not image.is_file():
            raise CatalogError(f"{where}: image {raw.get('image')!r} not found inside the folder")
        objects.append(ObjectEntry(reference, question, hint, image, _translations(raw.get("translations"), where)))
    if len({entry.reference for entry in objects}) != len(objects):
        raise CatalogError(f"{path}: object references must be unique")
    known = {entry.reference for entry in objects}
    campaigns: list[CampaignEntry] = []
    for index, raw in enumerate(data.get("campaigns", []), start=1):
        code = str(raw.get("code", ""))
        if not CAMPAIGN_CODE.match(code):
            raise CatalogError(f"{path}: campaigns #{index}: code must be 1-32 of A-Z a-z 0-9 -")
        references = tuple(str(ref).upper() for ref in raw.get("objects", []))
        if missing := [ref for ref in references if ref not in known]:
            raise CatalogError(f"{path}: campaign {code}: unknown objects {', '.join(missing)}")
        campaigns.append(CampaignEntry(code, str(raw.get("title") or code)[:200], references))
    return objects, campaigns


def _translations(raw: object, where: str) -> dict[str, dict[str, str]]:
    """`{language: {question, hint?}}`, validated like the English text."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: translations must be a table of languages")
    result: dict[str, dict[str, str]] = {}
    for language, entry in raw.items():
        if not LANGUAGE_CODE.fullmatch(str(language)) or not isinstance(entry, dict):
            raise CatalogError(f"{where}: translations.{language} must be a language code with a table")
        question = str(entry.get("question", "")).strip()
        hint = str(entry.get("hint", "")).strip()
        if not question or len(question) + len(hint) > MAX_QUESTION:
            limit = f"1-{MAX_QUESTION} characters"
            raise CatalogError(f"{where}: translations.{language}: question (+ hint) must be {limit}")
        result[str(language)] = {"question": question, **({"hint": hint} if hint else {})}
    return result


def store_image(source: Path, media_dir: Path) -> tuple[str, str]:
    """Re-encode an image without metadata into the media folder by content hash (blocking)."""
    if source.stat().st_size > MAX_IMAGE_BYTES:
        raise CatalogError(f"{source}: larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    try:
        image = clean_image(source.read_bytes())
    except ImageError as exc:
        raise CatalogError(f"{source}: {exc}") from None
    return store_clean_image(image, media_dir), image.sha256


async def import_catalog(folder: Path, database: Database, media_dir: Path) -> ImportReport:
    objects, campaigns = await asyncio.to_thread(read_catalog, folder)
    stored = [await asyncio.to_thread(store_image, entry.image, media_dir) for entry in objects]
    created = updated = unchanged = 0
    async with database.unit_of_work() as uow:
        ids: dict[str, int] = {}
        for position, (entry, (image_path, digest)) in enumerate(zip(objects, stored, strict=True)):
            existing = await uow.objects.by_reference(entry.reference)
            record, changed = await uow.objects.upsert(
                reference=entry.reference,
                question=entry.question,
                hint=entry.hint,
                image_path=image_path,
                image_sha256=digest,
                position=position,
                translations=entry.translations,
            )
            ids[entry.reference] = record.id
            if existing is None:
                created += 1
            elif changed:
                updated += 1
            else:
                unchanged += 1
        for campaign in campaigns:
            await uow.campaigns.upsert(
                code=campaign.code, title=campaign.title, object_ids=[ids[ref] for ref in campaign.objects]
            )
        await uow.commit()
    return ImportReport(created=created, updated=updated, unchanged=unchanged, campaigns=len(campaigns))
