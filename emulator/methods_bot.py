"""Bot-level Bot API methods: getMe, updates, webhooks, commands, menu button, close."""

from __future__ import annotations

import asyncio

from emulator import validation
from emulator.context import ApiContext, ApiResult, Described, Handler
from emulator.errors import ApiError, bad_request
from emulator.models import Json
from emulator.params import Params
from emulator.state import WebhookConfig

MAX_POLL_SECONDS = 600
_MENU_ERROR = "can't parse menu button JSON object"
_MENU_TYPES = ("default", "commands", "web_app")
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


async def get_me(ctx: ApiContext, p: Params) -> ApiResult:
    """The bot's own User."""
    return ctx.state.bot_user()


async def get_updates(ctx: ApiContext, p: Params) -> ApiResult:
    """Long polling: waits up to ``timeout`` seconds for updates, like Telegram."""
    state = ctx.state
    if state.webhook is not None:
        raise ApiError(409, WEBHOOK_CONFLICT)
    offset = p.get_int("offset")
    limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
    timeout = min(max(p.get_int("timeout", 0) or 0, 0), MAX_POLL_SECONDS)
    allowed = validation.allowed_updates(p.get_json("allowed_updates"))
    if allowed is not None:
        state.updates.allowed = allowed
    if offset is not None:
        state.updates.confirm(offset)
    # A newer getUpdates ends an older one with 409, which is how Telegram tells a bot that
    # a second instance is polling with the same token.
    state.poll_generation += 1
    generation = state.poll_generation
    state.updates.changed.notify()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != state.poll_generation:
            raise ApiError(409, POLL_CONFLICT)
        batch = state.updates.take(limit)
        remaining = deadline - loop.time()
        if batch or remaining <= 0 or state.closing or state.webhook is not None:
            return list(batch)
        await state.updates.changed.wait(remaining)


async def set_webhook(ctx: ApiContext, p: Params) -> ApiResult:
    """Switch to webhook delivery (an empty url removes the webhook)."""
    state = ctx.state
    url = p.get_str("url") or ""
    if not url:
        return await delete_webhook(ctx, p)
    validation.webhook_url(url)
    secret = validation.secret_token(p.get_str("secret_token"))
    max_connections = p.get_int("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = validation.allowed_updates(p.get_json("allowed_updates"))
    if allowed is not None:
        state.updates.allowed = allowed
    if p.get_bool("drop_pending_updates"):
        state.updates.clear()
    old = state.webhook
    unchanged = old is not None and (old.url, old.secret_token, old.max_connections) == (
        url,
        secret,
        max_connections,
    )
    if not unchanged:
        state.webhook = WebhookConfig(url, secret, max_connections)
    ctx.webhooks.ensure_running()
    # Wake a pending getUpdates so it returns now that updates go to the webhook.
    state.updates.changed.notify()
    return Described(True, "Webhook is already set" if unchanged else "Webhook was set")


async def delete_webhook(ctx: ApiContext, p: Params) -> ApiResult:
    """Back to getUpdates; pending updates stay unless drop_pending_updates."""
    state = ctx.state
    had_webhook = state.webhook is not None
    state.webhook = None
    await ctx.webhooks.stop()
    if p.get_bool("drop_pending_updates"):
        state.updates.clear()
    return Described(True, "Webhook was deleted" if had_webhook else "Webhook is already deleted")


async def get_webhook_info(ctx: ApiContext, p: Params) -> ApiResult:
    """The webhook's URL, pending count and last delivery error."""
    state = ctx.state
    config = state.webhook
    info: Json = {
        "url": config.url if config else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if config is not None:
        info["max_connections"] = config.max_connections
        info["ip_address"] = "127.0.0.1"
        info["allowed_updates"] = sorted(state.updates.allowed)
        if config.last_error_date is not None:
            info["last_error_date"] = config.last_error_date
            info["last_error_message"] = config.last_error_message
    return info


def _commands_key(ctx: ApiContext, p: Params) -> tuple[str, str]:
    raw_scope = p.get_json("scope", "can't parse BotCommandScope JSON object")
    scope = validation.command_scope(raw_scope)
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        chat_id = scope.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in ctx.state.profiles:
            raise bad_request("chat not found")
    return validation.scope_key(scope), validation.language_code(p.get_str("language_code"))


async def set_my_commands(ctx: ApiContext, p: Params) -> ApiResult:
    """Store the command list for (scope, language_code); an empty list deletes it."""
    commands = validation.commands(p.get_json("commands", "can't parse commands JSON object"))
    key = _commands_key(ctx, p)
    if commands:
        ctx.state.commands[key] = commands
    else:
        ctx.state.commands.pop(key, None)
    return True


async def get_my_commands(ctx: ApiContext, p: Params) -> ApiResult:
    """The list stored for exactly this (scope, language_code)."""
    return ctx.state.commands.get(_commands_key(ctx, p), [])


async def delete_my_commands(ctx: ApiContext, p: Params) -> ApiResult:
    """Forget the list for (scope, language_code)."""
    ctx.state.commands.pop(_commands_key(ctx, p), None)
    return True


def _menu_chat(ctx: ApiContext, p: Params) -> int | None:
    if not p.has("chat_id"):
        return None
    chat_id = p.chat_id()
    ctx.state.require_chat(chat_id)
    return chat_id


async def set_chat_menu_button(ctx: ApiContext, p: Params) -> ApiResult:
    """Store the menu button for one chat, or the default one."""
    chat_id = _menu_chat(ctx, p)
    button = p.get_json("menu_button", _MENU_ERROR) or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_TYPES:
        raise bad_request(_MENU_ERROR)
    if button["type"] == "web_app" and not (button.get("text") and button.get("web_app")):
        raise bad_request(_MENU_ERROR)
    ctx.state.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(ctx: ApiContext, p: Params) -> ApiResult:
    """The chat's menu button, else the default one."""
    chat_id = _menu_chat(ctx, p)
    buttons = ctx.state.menu_buttons
    button = buttons.get(chat_id) or buttons.get(None) or {"type": "commands"}
    return {"type": "commands"} if button.get("type") == "default" else button


async def close(ctx: ApiContext, p: Params) -> ApiResult:
    """Telegram's close: nothing to release here."""
    return True


async def log_out(ctx: ApiContext, p: Params) -> ApiResult:
    """Telegram's logOut: nothing to release here."""
    return True


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "close": close,
    "logOut": log_out,
}
