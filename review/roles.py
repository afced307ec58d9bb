"""Who may open which dashboard route: one table, checked by one middleware for every request.

Least privilege: a campaign manager handles objects, campaigns and aggregate statistics, but never
opens tip text, notes, exports or reporter aliases. A route missing from the table is refused to
everyone (fail closed); `tests/review/test_access.py` checks the table covers every route.
"""

from __future__ import annotations

from aiohttp import web

from review.context import Handler, optional_session
from storage.models import ModeratorRole

ADMIN = frozenset({ModeratorRole.ADMIN})
TIPS = frozenset({ModeratorRole.ADMIN, ModeratorRole.MODERATOR})  # tip text, notes, exports, aliases
CATALOG = frozenset({ModeratorRole.ADMIN, ModeratorRole.CAMPAIGN_MANAGER})  # objects and campaigns
EVERYONE = frozenset(ModeratorRole)  # aggregates and pages without tip content

ROUTE_ROLES: dict[str, frozenset[ModeratorRole]] = {
    "review.home": EVERYONE,
    "review.logout": EVERYONE,
    "review.queue": TIPS,
    "review.bulk": TIPS,
    "review.tip": TIPS,
    "review.tip_status": TIPS,
    "review.tip_assign": TIPS,
    "review.tip_note": TIPS,
    "review.tip_duplicate": TIPS,
    "review.tip_block": TIPS,
    "review.tip_reveal": ADMIN,
    "review.question_preview": TIPS,
    "review.question_send": TIPS,
    "review.thread_read": TIPS,
    "review.export": TIPS,
    "review.objects": EVERYONE,
    "review.object": TIPS,  # lists the object's tips and the words in them
    "review.object_image": EVERYONE,
    "review.object_status": CATALOG,
    "review.object_new": CATALOG,
    "review.object_create": CATALOG,
    "review.object_edit": CATALOG,
    "review.object_save": CATALOG,
    "review.object_move": CATALOG,
    "review.campaigns": EVERYONE,
    "review.campaign_new": CATALOG,
    "review.campaign_create": CATALOG,
    "review.campaign_edit": CATALOG,
    "review.campaign_save": CATALOG,
    "review.links": CATALOG,
    "review.link_code": CATALOG,
    "review.announcements": EVERYONE,  # no tip content: moderators may read them
    "review.announcement_new": CATALOG,
    "review.announcement_create": CATALOG,
    "review.announcement": EVERYONE,
    "review.announcement_save": CATALOG,
    "review.announcement_translate": CATALOG,
    "review.announcement_preview": CATALOG,
    "review.announcement_send": CATALOG,
    "review.announcement_pause": CATALOG,
    "review.announcement_resume": CATALOG,
    "review.announcement_cancel": CATALOG,
    "review.stats": EVERYONE,
    "review.funnel": EVERYONE,
    "review.audit": ADMIN,
    "review.accounts": ADMIN,
    "review.account_change": ADMIN,
}


def landing(role: str) -> str:
    """Where a role starts: the queue, or the objects for campaign managers."""
    return "/review/objects" if role == ModeratorRole.CAMPAIGN_MANAGER else "/review/tips"


@web.middleware
async def role_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After the session middleware: refuse (403) a signed-in account whose role the route does not admit."""
    session = optional_session(request)
    if session is None or request.match_info.http_exception is not None:
        return await handler(request)
    allowed = ROUTE_ROLES.get(request.match_info.route.name or "", frozenset())
    if session.moderator.role not in allowed:
        raise web.HTTPForbidden(text="Your account's role does not give access to this page.")
    return await handler(request)
