"""Administrators' pages: the audit trail (read-only) and the moderator accounts."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from review.context import current_moderator, unit_of_work
from review.filters import FilterError, parse_day, parse_id, start_of
from review.queue import record
from review.render import error_page, render, see_other, with_notice
from storage.models import ModeratorRole
from storage.repositories.audit import AuditQuery

AUDIT_PAGE = 100


async def audit_page(request: web.Request) -> web.StreamResponse:
    query = request.query
    try:
        since, until = parse_day(query.get("date_from"), "from"), parse_day(query.get("date_to"), "to")
        before = parse_id(query.get("before"), "before")
    except FilterError as exc:
        return error_page(request, 400, "Invalid filter", str(exc))
    action, actor = query.get("action", "").strip()[:64], query.get("actor", "").strip()[:64]
    audit_query = AuditQuery(
        action=action or None,
        actor=actor or None,
        since=start_of(since) if since else None,
        before=start_of(until) + timedelta(days=1) if until else None,
    )
    async with unit_of_work(request) as uow:
        events = await uow.audit.page(audit_query, before_id=before, limit=AUDIT_PAGE + 1)
        actions = await uow.audit.actions()
        moderators = await uow.moderators.all()
    params = {
        key: value
        for key, value in {
            "action": action,
            "actor": actor,
            "date_from": query.get("date_from", ""),
            "date_to": query.get("date_to", ""),
        }.items()
        if value
    }
    return render(
        request,
        "audit.html",
        events=events[:AUDIT_PAGE],
        older=events[AUDIT_PAGE - 1].id if len(events) > AUDIT_PAGE else None,
        actions=actions,
        moderators=moderators,
        params=params,
    )


async def accounts_page(request: web.Request) -> web.StreamResponse:
    async with unit_of_work(request) as uow:
        moderators = await uow.moderators.all()
        tokens = await uow.api_tokens.all()
    return render(request, "accounts.html", moderators=moderators, tokens=tokens)


async def account_change(request: web.Request) -> web.StreamResponse:
    """Enable, disable, promote or demote an account (never one's own: no locking oneself out)."""
    me = current_moderator(request)
    try:
        account_id = parse_id(request.match_info["account_id"], "account")
    except FilterError:
        account_id = None
    form = await request.post()
    change = str(form.get("change", ""))
    roles = {
        "make_admin": ModeratorRole.ADMIN,
        "make_moderator": ModeratorRole.MODERATOR,
        "make_campaign_manager": ModeratorRole.CAMPAIGN_MANAGER,
    }
    if change not in ("enable", "disable", *roles):
        return error_page(request, 400, "Unknown change", "Choose a change to make.")
    if account_id == me.id:
        return error_page(request, 400, "Not on yourself", "Ask another administrator to change your own account.")
    async with unit_of_work(request) as uow:
        account = await uow.moderators.get(account_id) if account_id else None
        if account is None:
            raise web.HTTPNotFound()
        if change in ("enable", "disable"):
            await uow.moderators.set_active(account.id, change == "enable")
            if change == "disable":
                await uow.web_sessions.delete_for(account.id)
        else:
            await uow.moderators.set_role(account.id, roles[change])
        record(uow, me, "account.change", "moderator", account.id, username=account.username, change=change)
        await uow.commit()
    return see_other(with_notice("/review/accounts", "account"))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/audit", audit_page, name="review.audit")
    app.router.add_get("/accounts", accounts_page, name="review.accounts")
    app.router.add_post(r"/accounts/{account_id:\d+}", account_change, name="review.account_change")
