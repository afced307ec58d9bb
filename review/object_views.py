"""Managing objects (admins and campaign managers): create, edit, replace the image, reorder.

Every uploaded image is decoded and re-encoded without metadata (`storage.images`); the uploaded
bytes are never written anywhere. Per-language versions are one line each: `de | question | hint`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy

from handlers.deeplinks import OBJECT_REFERENCE
from review.aggregates import aggregates
from review.context import MEDIA_DIR, OPTIONS, config, current_moderator, unit_of_work
from review.filters import path_id
from review.queue import record
from review.render import error_page, render, see_other, with_notice
from storage.catalog_rules import LANGUAGE_CODE, question_problem
from storage.images import CleanImage, ImageError, clean_image, store_clean_image
from storage.records import ObjectRecord

MAX_TRANSLATION_LINES = 60
Form = MultiDictProxy[str | bytes | bytearray | web.FileField]  # what `request.post()` returns


class FormError(ValueError):
    """A form field is wrong; the message is shown above the form."""


@dataclass(frozen=True, slots=True)
class ObjectForm:
    question: str
    hint: str | None
    translations: dict[str, dict[str, str]]


def form_text(form: Form, name: str, limit: int) -> str:
    """A text field, stripped and cut to `limit`; a forged file in its place counts as empty."""
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def parse_translations(text: str) -> dict[str, dict[str, str]]:
    """`de | Wo wird diese Tasse verkauft? | optional hint`, one language per line."""
    result: dict[str, dict[str, str]] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_TRANSLATION_LINES:
        raise FormError(f"Other languages: at most {MAX_TRANSLATION_LINES}.")
    for number, line in enumerate(lines, start=1):
        language, _, rest = (part.strip() for part in line.partition("|"))
        question, _, hint = (part.strip() for part in rest.partition("|"))
        if not LANGUAGE_CODE.fullmatch(language) or language == "en":
            hint_text = "start with a language code such as de, then | and the question"
            raise FormError(f"Other languages, line {number}: {hint_text}.")
        if problem := question_problem(question, hint):
            raise FormError(f"Other languages, line {number} ({language}): {problem}.")
        result[language] = {"question": question, **({"hint": hint} if hint else {})}
    return result


def translations_text(translations: dict[str, dict[str, str]]) -> str:
    return "\n".join(
        " | ".join([language, entry.get("question", ""), *([entry["hint"]] if entry.get("hint") else [])])
        for language, entry in sorted(translations.items())
    )


def parse_object_form(form: Form) -> ObjectForm:
    question, hint = form_text(form, "question", 2000), form_text(form, "hint", 2000) or None
    if problem := question_problem(question, hint):
        raise FormError(problem.capitalize() + ".")
    return ObjectForm(question, hint, parse_translations(form_text(form, "translations", 60_000)))


async def read_upload(request: web.Request, form: Form, *, required: bool) -> CleanImage | None:
    """The uploaded image, cleaned (in a thread: decoding is CPU work); None if none was given."""
    upload = form.get("image")
    if not isinstance(upload, web.FileField) or not upload.filename:
        if required:
            raise FormError("Choose an image (PNG, JPEG or WebP).")
        return None
    limit = config(request).max_upload_mb * 1024 * 1024
    raw = await asyncio.to_thread(upload.file.read, limit + 1)
    try:
        return await asyncio.to_thread(clean_image, raw, max_bytes=limit)
    except ImageError as exc:
        raise FormError(f"The image was refused: {exc}.") from None


def _form_page(
    request: web.Request, obj: ObjectRecord | None, error: str | None, status: int, form: Form | None = None
) -> web.Response:
    """The object form: the stored values, or after an error what was typed (the image must be chosen again)."""
    if form is not None:
        values = {name: form_text(form, name, 60_000) for name in ("reference", "question", "hint", "translations")}
    else:
        values = {
            "reference": "",
            "question": obj.question if obj else "",
            "hint": (obj.hint or "") if obj else "",
            "translations": translations_text(obj.translations) if obj else "",
        }
    return render(
        request,
        "object_form.html",
        status=status,
        obj=obj,
        error=error,
        values=values,
        max_mb=config(request).max_upload_mb,
    )


async def new_object_page(request: web.Request) -> web.StreamResponse:
    return _form_page(request, None, None, 200)


async def create_object(request: web.Request) -> web.StreamResponse:
    me, form = current_moderator(request), await request.post()
    try:
        reference = form_text(form, "reference", 32).upper()
        if not OBJECT_REFERENCE.match(reference):
            raise FormError("The reference must look like TAO-0001.")
        fields = parse_object_form(form)
        image = await read_upload(request, form, required=True)
    except FormError as exc:
        return _form_page(request, None, str(exc), 400, form)
    assert image is not None
    name = await asyncio.to_thread(store_clean_image, image, request.config_dict[MEDIA_DIR])
    async with unit_of_work(request) as uow:
        created = await uow.objects.create(
            reference=reference,
            question=fields.question,
            hint=fields.hint,
            translations=fields.translations,
            image_path=name,
            image_sha256=image.sha256,
        )
        if created is None:
            return _form_page(request, None, f"{reference} already exists.", 409, form)
        record(uow, me, "object.create", "object", created.id, reference=reference)
        await uow.commit()
    request.config_dict[OPTIONS].invalidate()
    aggregates(request).invalidate()  # the objects list is cached briefly
    return see_other(with_notice(f"/review/objects/{created.id}/edit", "object_saved"))


async def edit_object_page(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        obj = await uow.objects.get(path_id(request, "object_id"))
    if obj is None:
        raise web.HTTPNotFound()
    return _form_page(request, obj, None, 200)


async def save_object(request: web.Request) -> web.StreamResponse:
    me, object_id, form = current_moderator(request), path_id(request, "object_id"), await request.post()
    async with unit_of_work(request) as uow:
        obj = await uow.objects.get(object_id)
    if obj is None:
        raise web.HTTPNotFound()
    try:
        fields = parse_object_form(form)
        image = await read_upload(request, form, required=False)
    except FormError as exc:
        return _form_page(request, obj, str(exc), 400, form)
    name = await asyncio.to_thread(store_clean_image, image, request.config_dict[MEDIA_DIR]) if image else None
    async with unit_of_work(request) as uow:
        await uow.objects.edit(object_id, question=fields.question, hint=fields.hint, translations=fields.translations)
        if image is not None and name is not None:
            await uow.objects.set_image(object_id, name, image.sha256)
        record(uow, me, "object.edit", "object", object_id, image_replaced=image is not None)
        await uow.commit()
    aggregates(request).invalidate()  # the objects list is cached briefly
    return see_other(with_notice(f"/review/objects/{object_id}/edit", "object_saved"))


async def move_object(request: web.Request) -> web.StreamResponse:
    me, object_id, form = current_moderator(request), path_id(request, "object_id"), await request.post()
    direction = form.get("direction")
    if direction not in ("up", "down"):
        return error_page(request, 400, "Unknown direction", "Move an object up or down.")
    async with unit_of_work(request) as uow:
        if not await uow.objects.move(object_id, -1 if direction == "up" else 1):
            raise web.HTTPNotFound()
        record(uow, me, "object.move", "object", object_id, direction=direction)
        await uow.commit()
    aggregates(request).invalidate()  # the objects list is cached briefly
    return see_other("/review/objects")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/objects/new", new_object_page, name="review.object_new")
    app.router.add_post("/objects/new", create_object, name="review.object_create")
    app.router.add_get(r"/objects/{object_id:\d+}/edit", edit_object_page, name="review.object_edit")
    app.router.add_post(r"/objects/{object_id:\d+}/edit", save_object, name="review.object_save")
    app.router.add_post(r"/objects/{object_id:\d+}/move", move_object, name="review.object_move")
