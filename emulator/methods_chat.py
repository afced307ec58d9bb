"""Chat-level Bot API methods: sending, editing and deleting messages, callbacks, files."""

from __future__ import annotations

from typing import Any

from emulator import validation
from emulator.context import ApiContext, ApiResult, Handler, now
from emulator.errors import bad_request
from emulator.files import StoredFile, sniff_image
from emulator.models import BotMessage, CallbackAnswer, Json, MessageRevision
from emulator.params import Params, UploadedFile
from emulator.state import ChatLog, UserProfile
from emulator.textparse import ParsedText

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_MARKUP_ERROR = "can't parse reply keyboard markup JSON object"


def _markup(p: Params) -> Json | None:
    return validation.reply_markup(p.get_json("reply_markup", _MARKUP_ERROR))


def _reply_to(p: Params, chat: ChatLog) -> int | None:
    reply = p.get_json("reply_parameters", "can't parse reply parameters JSON object")
    allow_missing = p.get_bool("allow_sending_without_reply")
    message_id: object = p.get_int("reply_to_message_id")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
    if message_id is None:
        return None
    if not isinstance(message_id, int):
        raise bad_request("can't parse reply parameters JSON object")
    exists = message_id in chat.user_messages or (
        message_id in chat.bot_messages and not chat.bot_messages[message_id].deleted
    )
    if exists:
        return message_id
    if allow_missing:
        return None
    raise bad_request("message to be replied not found")


def _send(ctx: ApiContext, profile: UserProfile, chat: ChatLog, p: Params, fields: dict[str, Any]) -> Json:
    """Store a new bot message, log it for the chat, and return its Message object."""
    message = BotMessage(
        message_id=chat.next_message_id(),
        chat_id=chat.chat_id,
        date=now(),
        protect_content=p.get_bool("protect_content"),
        disable_notification=p.get_bool("disable_notification"),
        **fields,  # the content fields, which differ by kind
    )
    chat.bot_messages[message.message_id] = message
    chat.add_event("bot_message", {"message": message.to_json()}, message.snapshot())
    result = message.to_telegram(ctx.state.bot_user(), profile.to_chat())
    if message.reply_to_message_id is not None:
        replied = chat.user_messages.get(message.reply_to_message_id)
        original = chat.bot_messages.get(message.reply_to_message_id)
        if replied is None and original is not None:
            replied = original.to_telegram(ctx.state.bot_user(), profile.to_chat())
        if replied is not None:
            result["reply_to_message"] = replied
    return result


async def send_message(ctx: ApiContext, p: Params) -> ApiResult:
    """sendMessage."""
    profile, chat = ctx.state.require_chat(p.chat_id())
    source, parse_mode = p.get_str("text"), p.get_str("parse_mode")
    parsed = validation.message_text(source, parse_mode, _entities(p, "entities"))
    markup, reply_to = _markup(p), _reply_to(p, chat)
    content = {
        "kind": "text",
        "text": source or "",
        "plain_text": parsed.text,
        "parse_mode": parse_mode,
        "entities": parsed.entities,
        "reply_markup": markup,
        "reply_to_message_id": reply_to,
    }
    return _send(ctx, profile, chat, p, content)


def _entities(p: Params, name: str) -> object | None:
    return p.get_json(name, "can't parse entities JSON object") if p.has(name) else None


def _photo_sizes(ctx: ApiContext, p: Params) -> list[StoredFile]:
    photo = p.file("photo", p.uploads())
    if photo is None:
        raise bad_request("there is no photo in the request")
    if isinstance(photo, UploadedFile):
        sniffed = sniff_image(photo.data)
        if sniffed is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        mime, width, height = sniffed
        if len(photo.data) > MAX_PHOTO_BYTES:
            raise bad_request("file is too big")
        if width + height > 10_000 or max(width, height) > 20 * max(min(width, height), 1):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return ctx.state.files.add_photo(photo.data, mime, width, height)
    stored = ctx.state.files.get(photo)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != "photo":
        raise bad_request(f"can't use file of type {stored.kind.capitalize()} as Photo")
    return ctx.state.files.photo_set(photo)


async def send_photo(ctx: ApiContext, p: Params) -> ApiResult:
    """sendPhoto, with an upload or a known photo file_id."""
    profile, chat = ctx.state.require_chat(p.chat_id())
    sizes = _photo_sizes(ctx, p)
    source, parse_mode = p.get_str("caption"), p.get_str("parse_mode")
    parsed = validation.caption_text(source, parse_mode, _entities(p, "caption_entities"))
    markup, reply_to = _markup(p), _reply_to(p, chat)
    content = {
        "kind": "photo",
        "text": source or "",
        "plain_text": parsed.text,
        "parse_mode": parse_mode,
        "entities": parsed.entities,
        "reply_markup": markup,
        "reply_to_message_id": reply_to,
        "photo": [size.photo_size() for size in sizes],
    }
    return _send(ctx, profile, chat, p, content)


async def send_location(ctx: ApiContext, p: Params) -> ApiResult:
    """sendLocation."""
    profile, chat = ctx.state.require_chat(p.chat_id())
    latitude, longitude = p.get_float("latitude"), p.get_float("longitude")
    if latitude is None or longitude is None:
        raise bad_request("wrong location specified")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong location specified")
    location: Json = {"latitude": latitude, "longitude": longitude}
    if (accuracy := p.get_float("horizontal_accuracy")) is not None:
        location["horizontal_accuracy"] = accuracy
    markup, reply_to = _markup(p), _reply_to(p, chat)
    content = {
        "kind": "location",
        "text": "",
        "plain_text": "",
        "parse_mode": None,
        "location": location,
        "reply_markup": markup,
        "reply_to_message_id": reply_to,
    }
    return _send(ctx, profile, chat, p, content)


def _target(ctx: ApiContext, p: Params) -> tuple[UserProfile, ChatLog, BotMessage]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    profile, chat = ctx.state.require_chat(p.chat_id())
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.bot_messages.get(message_id)
    if message is None or message.deleted:
        if message_id in chat.user_messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return profile, chat, message


def _edit_markup(p: Params) -> Json | None:
    markup = _markup(p)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("reply markup must be an inline keyboard")
    return markup


def _apply_edit(
    ctx: ApiContext,
    profile: UserProfile,
    chat: ChatLog,
    message: BotMessage,
    content: tuple[str | None, ParsedText, str | None] | None,
    markup: Json | None,
) -> Json:
    """Apply new content and/or markup; Telegram refuses edits that change nothing."""
    if content is not None:
        source, parsed, parse_mode = content
        same_content = (parsed.text, parsed.entities) == (message.plain_text, message.entities)
    else:
        same_content = True
    if same_content and markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.history.append(
        MessageRevision(
            text=message.text,
            plain_text=message.plain_text,
            parse_mode=message.parse_mode,
            entities=message.entities,
            reply_markup=message.reply_markup,
            date=message.edit_date or message.date,
        )
    )
    if content is not None:
        message.text, message.plain_text = source or "", parsed.text
        message.parse_mode = parse_mode
        message.entities = parsed.entities
    message.reply_markup = markup
    message.edited = True
    message.edit_date = now()
    chat.add_event("edit", {"message": message.to_json()}, message.snapshot())
    return message.to_telegram(ctx.state.bot_user(), profile.to_chat())


async def edit_message_text(ctx: ApiContext, p: Params) -> ApiResult:
    """editMessageText (drops the keyboard unless reply_markup is sent again, like Telegram)."""
    profile, chat, message = _target(ctx, p)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    source, parse_mode = p.get_str("text"), p.get_str("parse_mode")
    parsed = validation.message_text(source, parse_mode, _entities(p, "entities"))
    content = (source, parsed, parse_mode)
    return _apply_edit(ctx, profile, chat, message, content, _edit_markup(p))


async def edit_message_caption(ctx: ApiContext, p: Params) -> ApiResult:
    """editMessageCaption."""
    profile, chat, message = _target(ctx, p)
    if message.kind != "photo":
        raise bad_request("there is no caption in the message to edit")
    source, parse_mode = p.get_str("caption"), p.get_str("parse_mode")
    parsed = validation.caption_text(source, parse_mode, _entities(p, "caption_entities"))
    content = (source, parsed, parse_mode)
    return _apply_edit(ctx, profile, chat, message, content, _edit_markup(p))


async def edit_message_reply_markup(ctx: ApiContext, p: Params) -> ApiResult:
    """editMessageReplyMarkup (no reply_markup removes the keyboard)."""
    profile, chat, message = _target(ctx, p)
    return _apply_edit(ctx, profile, chat, message, None, _edit_markup(p))


async def delete_message(ctx: ApiContext, p: Params) -> ApiResult:
    """deleteMessage: bots may delete their own and the user's messages in private chats."""
    chat_id = p.chat_id()
    if chat_id not in ctx.state.profiles:
        raise bad_request("chat not found")
    chat = ctx.state.chat(chat_id)
    message_id = p.get_int("message_id")
    message = chat.bot_messages.get(message_id) if message_id is not None else None
    if message is not None and not message.deleted:
        message.deleted = True
    elif message_id is not None and message_id in chat.user_messages:
        del chat.user_messages[message_id]
    else:
        raise bad_request("message to delete not found")
    chat.add_event("delete", {"message_id": message_id})
    return True


async def answer_callback_query(ctx: ApiContext, p: Params) -> ApiResult:
    """answerCallbackQuery: once per known query id."""
    query_id = p.get_str("callback_query_id") or ""
    record = ctx.state.callbacks.get(query_id)
    if record is None or record.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    answer = CallbackAnswer(
        callback_query_id=query_id,
        text=validation.callback_answer_text(p.get_str("text")),
        show_alert=p.get_bool("show_alert"),
        url=p.get_str("url"),
        cache_time=p.get_int("cache_time", 0) or 0,
    )
    record.answer = answer
    ctx.state.callback_answered.notify()
    ctx.state.chat(record.user_id).add_event(
        "callback_answer",
        {
            "callback_query_id": query_id,
            "message_id": record.message_id,
            "text": answer.text,
            "show_alert": answer.show_alert,
            "url": answer.url,
        },
    )
    return True


async def get_file(ctx: ApiContext, p: Params) -> ApiResult:
    """getFile: a File whose file_path downloads from /file/bot<token>/<file_path>."""
    stored = ctx.state.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.file_size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return stored.to_file()


async def send_chat_action(ctx: ApiContext, p: Params) -> ApiResult:
    """sendChatAction (shown as "typing…" on the chat page)."""
    _, chat = ctx.state.require_chat(p.chat_id())
    action = validation.chat_action(p.get_str("action"))
    chat.add_event("chat_action", {"action": action})
    return True


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendLocation": send_location,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "getFile": get_file,
    "sendChatAction": send_chat_action,
}
