"""Creating and editing campaigns (admins and campaign managers).

Objects are listed by reference in order (`TAO-0001, TAO-0003`), or "all active"; the intro line
shown after opt-in is one line per language: `en | Thank you for helping the spring appeal!`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from aiohttp import web

from handlers.deeplinks import CAMPAIGN_CODE
from review.aggregates import aggregates
from review.context import OPTIONS, current_moderator, unit_of_work
from review.filters import FilterError, parse_day, path_id
from review.object_views import Form, FormError, form_text
from review.queue import record
from review.render import render, see_other, with_notice
from storage.catalog_rules import LANGUAGE_CODE
from storage.models import CampaignStatus
from storage.records import CampaignRecord
from storage.repositories.catalog import CampaignFields

MAX_INTRO = 300


def parse_intro(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for number, line in enumerate((line.strip() for line in text.splitlines() if line.strip()), start=1):
        language, _, intro = (part.strip() for part in line.partition("|"))
        if not LANGUAGE_CODE.fullmatch(language) or not intro:
            raise FormError(f"Intro line {number}: start with a language code such as en, then | and the text.")
        if len(intro) > MAX_INTRO:
            raise FormError(f"Intro line {number}: at most {MAX_INTRO} characters.")
        result[language] = intro
    return result


def _day(form: Form, name: str, label: str) -> date | None:
    try:
        return parse_day(form_text(form, name, 10) or None, label)
    except FilterError as exc:
        raise FormError(str(exc)) from None


async def _parse(request: web.Request) -> tuple[CampaignFields, list[str]]:
    form = await request.post()
    code, title = form_text(form, "code", 40), form_text(form, "title", 200)
    if not CAMPAIGN_CODE.match(code):
        raise FormError("The code must be 1-32 letters, digits or hyphens (it goes into the link).")
    if not title:
        raise FormError("Give the campaign a title.")
    status = form_text(form, "status", 16)
    if status not in CampaignStatus.__members__.values():
        raise FormError("Choose active, paused or ended.")
    starts_on, ends_on = _day(form, "starts_on", "start"), _day(form, "ends_on", "end")
    if starts_on and ends_on and ends_on < starts_on:
        raise FormError("The end date is before the start date.")
    references = [ref.strip().upper() for ref in form_text(form, "objects", 4000).replace("\n", ",").split(",")]
    references = [ref for ref in references if ref]
    all_active = form.get("all_active") == "1" or not references
    fields = CampaignFields(
        code=code,
        title=title,
        status=CampaignStatus(status),
        all_active=all_active,
        starts_on=starts_on,
        ends_on=ends_on,
        intro=parse_intro(form_text(form, "intro", 20_000)),
        object_ids=[],
    )
    return fields, [] if all_active else references


async def _resolve(request: web.Request, fields: CampaignFields, references: list[str]) -> CampaignFields:
    """The listed references as object ids, in order and each once."""
    if not references:
        return fields
    async with unit_of_work(request) as uow:
        known = {obj.reference: obj.id for obj in await uow.objects.all()}
    if missing := [ref for ref in references if ref not in known]:
        raise FormError(f"Unknown objects: {', '.join(missing[:10])}.")
    return replace(fields, object_ids=list(dict.fromkeys(known[ref] for ref in references)))


FIELDS = ("code", "title", "status", "starts_on", "ends_on", "objects", "intro", "all_active")


def _stored_values(campaign: CampaignRecord | None, references: str) -> dict[str, str]:
    if campaign is None:
        return {name: "" for name in FIELDS} | {"status": CampaignStatus.ACTIVE, "all_active": "1"}
    return {
        "code": campaign.code,
        "title": campaign.title,
        "status": campaign.status,
        "starts_on": str(campaign.starts_on or ""),
        "ends_on": str(campaign.ends_on or ""),
        "objects": references,
        "intro": "\n".join(f"{language} | {text}" for language, text in sorted(campaign.intro.items())),
        "all_active": "1" if campaign.all_active else "",
    }


def _form_page(
    request: web.Request, campaign: CampaignRecord | None, values: dict[str, str], error: str | None, status: int
) -> web.Response:
    """The campaign form with `values`: the stored ones, or after an error what was typed."""
    return render(
        request,
        "campaign_form.html",
        status=status,
        campaign=campaign,
        values=values,
        error=error,
        CAMPAIGN_STATUSES=list(CampaignStatus),
    )


async def new_campaign_page(request: web.Request) -> web.StreamResponse:
    return _form_page(request, None, _stored_values(None, ""), None, 200)


async def edit_campaign_page(request: web.Request) -> web.StreamResponse:
    campaign_id = path_id(request, "campaign_id")
    async with unit_of_work(request) as uow:
        campaign = await uow.campaigns.get(campaign_id)
        if campaign is None:
            raise web.HTTPNotFound()
        ids = await uow.campaigns.object_ids(campaign_id)
        references = {obj.id: obj.reference for obj in await uow.objects.all()}
    listed = ", ".join(references[i] for i in ids if i in references)
    return _form_page(request, campaign, _stored_values(campaign, listed), None, 200)


async def save_campaign(request: web.Request) -> web.StreamResponse:
    """Create (POST /campaigns/new) or edit (POST /campaigns/{id}/edit) a campaign."""
    me = current_moderator(request)
    campaign_id = path_id(request, "campaign_id") if "campaign_id" in request.match_info else None
    async with unit_of_work(request) as uow:
        existing = await uow.campaigns.get(campaign_id) if campaign_id else None
    if campaign_id is not None and existing is None:
        raise web.HTTPNotFound()
    form = await request.post()
    typed = {name: form_text(form, name, 20_000) for name in FIELDS}
    try:
        fields, references = await _parse(request)
        fields = await _resolve(request, fields, references)
    except FormError as exc:
        return _form_page(request, existing, typed, str(exc), 400)
    async with unit_of_work(request) as uow:
        saved = await uow.campaigns.save(campaign_id, fields)
        if saved is None:
            return _form_page(request, existing, typed, f"The code {fields.code} is taken.", 409)
        action = "campaign.edit" if campaign_id else "campaign.create"
        record(uow, me, action, "campaign", saved.id, code=saved.code, status=saved.status)
        await uow.commit()
    request.config_dict[OPTIONS].invalidate()
    aggregates(request).invalidate()  # statistics name campaigns by code
    return see_other(with_notice(f"/review/campaigns/{saved.id}/edit", "campaign_saved"))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/campaigns/new", new_campaign_page, name="review.campaign_new")
    app.router.add_post("/campaigns/new", save_campaign, name="review.campaign_create")
    app.router.add_get(r"/campaigns/{campaign_id:\d+}/edit", edit_campaign_page, name="review.campaign_edit")
    app.router.add_post(r"/campaigns/{campaign_id:\d+}/edit", save_campaign, name="review.campaign_save")
