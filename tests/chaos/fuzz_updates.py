"""Hypothesis strategies for odd, malformed and hostile webhook bodies.

Most bodies are update-shaped JSON (so they get past the first checks and reach PTB and the
handlers) with odd values: wrong types, missing fields, huge or invisible text, forged button
data, weird commands, group/channel/bot senders, unknown update kinds. The rest are not updates
at all: deep nesting, truncated JSON, raw bytes, top-level arrays.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Like `one_of`, but with weights (`one_of` picks its flattened branches evenly)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda index: table[index])


ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
EMOJI = ("😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪", "🧿", "\ufe0f")
SPECIAL = ("\x00", "\n", "\r\n", "\t", "<b>", "</i>", "&amp;", "&", '"', "\\", "'", "%00", "\ud800", "\udfff")
KNOWN_USERS = (4242, 4243)  # users the emulator knows: the bot's replies to them succeed
EMULATOR_UPDATE_IDS = range(500_000_001, 501_000_000)  # never forge ids the emulator will use

odd_char = st.sampled_from(tuple(ZERO_WIDTH + BIDI) + EMOJI + SPECIAL)
short_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(odd_char, st.characters()), max_size=40).map("".join),
)
huge_text = st.tuples(
    st.integers(1_000, 100_000), st.sampled_from(("x", "é", "😀", "\u200b", "\x00", "\u202e", "ab "))
).map(lambda pair: pair[1] * (pair[0] // len(pair[1])))
text = weighted((12, short_text), (1, huge_text))

COMMANDS = ("start", "help", "privacy", "language", "cancel", "stop", "delete_my_data", "nope", "start@OtherBot")
PAYLOADS = (
    "../../etc",
    "../../etc/passwd",
    "c-demo_o-TAO-0001",
    "o-TAO-9999",
    "c-" + "a" * 70,
    "%00",
    "\x00",
    "$(reboot)",
    "' OR 1=1 --",
    "c-demo_c-demo_c-demo",
    "o-TAO-0001\u202e",
)
command = st.tuples(st.sampled_from(COMMANDS), st.one_of(st.sampled_from(PAYLOADS), short_text, st.just(""))).map(
    lambda pair: f"/{pair[0]} {pair[1]}".rstrip()
)
message_text = weighted((1, text), (2, command))

FORGED_DATA = (
    "tip:send",
    "tip:cancel",
    "tip:edit",
    "tip:skip",
    "cty:ZZ",
    "cty:DE",
    "cty:other",
    "cty:unknown",
    "cty:",
    "obj:next:999999999999",
    "obj:prev:0",
    "obj:show:1",
    "obj:show:-1",
    "tip:new:1",
    "tip:new:999999999999",
    "optin",
    "stop",
    "forget:yes",
    "forget:no",
    "lang:xx",
    "lang:de",
    "tip:send" + "x" * 64,
    "obj:next:" + "9" * 80,
)
callback_data = weighted((2, st.sampled_from(FORGED_DATA)), (1, short_text))

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    short_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(short_text, inner, max_size=4)),
    max_leaves=12,
)

chat_id = st.one_of(
    st.sampled_from(KNOWN_USERS),
    st.integers(1, 10**9),
    st.integers(-(10**13), -1),
    st.integers(2**63, 2**70),
    json_value,
)
user = st.fixed_dictionaries(
    {"id": chat_id, "is_bot": st.sampled_from([False, False, False, True, "no", None]), "first_name": short_text},
    optional={
        "language_code": st.one_of(st.sampled_from(["en", "de", "ar", "he", "zz", "", "x" * 40]), short_text),
        "username": short_text,
        "last_name": text,
    },
)
chat = st.fixed_dictionaries(
    {
        "id": chat_id,
        "type": weighted(
            (3, st.just("private")), (2, st.sampled_from(["group", "supergroup", "channel", "sender"])), (1, short_text)
        ),
    },
    optional={"title": short_text, "first_name": short_text, "is_forum": st.booleans()},
)
entity = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["bot_command", "bold", "url", "text_link", "mention", "custom_emoji", "weird"]),
        "offset": st.integers(-5, 200),
        "length": st.integers(-5, 10**6),
    },
    optional={"url": short_text},
)
message = st.fixed_dictionaries(
    {
        "message_id": st.one_of(st.integers(-5, 2**40), json_value),
        "date": st.one_of(st.integers(0, 2**33), json_value),
        "chat": weighted((3, chat), (1, json_value)),
    },
    optional={
        "from": weighted((2, user), (1, json_value)),
        "text": weighted((2, message_text), (1, json_value)),
        "entities": st.one_of(st.lists(entity, max_size=3), json_value),
        "caption": text,
        "location": st.fixed_dictionaries({"latitude": json_scalar, "longitude": json_scalar}),
        "photo": st.lists(
            st.fixed_dictionaries(
                {"file_id": short_text, "file_unique_id": short_text, "width": st.integers(), "height": st.integers()}
            ),
            max_size=2,
        ),
        "sender_chat": chat,
        "reply_to_message": st.fixed_dictionaries({"message_id": st.integers(), "date": st.integers(), "chat": chat}),
    },
)
callback_query = st.fixed_dictionaries(
    {
        "id": st.one_of(short_text, json_value),
        "from": weighted((2, user), (1, json_value)),
        "chat_instance": short_text,
    },
    optional={"data": weighted((2, callback_data), (1, json_value)), "message": message, "game_short_name": short_text},
)
plausible_user_id = st.one_of(st.sampled_from(KNOWN_USERS), st.integers(1, 10**9))
plausible_language = st.sampled_from(["en", "de", "ar", "he", "uk", "pt-br", "zz", None])


@st.composite
def plausible_message(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed message (mostly private, from a person) with odd content."""
    user_id = draw(plausible_user_id)
    sender: dict[str, Any] = {"id": user_id, "is_bot": draw(st.sampled_from([False] * 9 + [True])), "first_name": "F"}
    if (language := draw(plausible_language)) is not None:
        sender["language_code"] = language
    chat_type = draw(st.sampled_from(["private"] * 7 + ["group", "supergroup", "channel"]))
    chat_id = user_id if chat_type == "private" else -draw(st.integers(1, 10**12))
    content = draw(message_text)
    result: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": 1_760_000_000,
        "chat": {"id": chat_id, "type": chat_type, "title": "t"},
        "from": sender,
        "text": content,
    }
    if content.startswith("/"):
        length = len(content.split(" ", 1)[0].encode("utf-16-le", "surrogatepass")) // 2
        result["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    elif draw(st.booleans()):
        result["entities"] = draw(st.lists(entity, max_size=2))
    return result


@st.composite
def plausible_callback(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed button press with forged data, on a (pretend) earlier bot message."""
    user_id = draw(plausible_user_id)
    sender = {"id": user_id, "is_bot": False, "first_name": "F", "language_code": "en"}
    query: dict[str, Any] = {"id": str(draw(st.integers(1, 2**62))), "from": sender, "chat_instance": "1"}
    if draw(st.integers(0, 9)):
        query["data"] = draw(callback_data)
    if draw(st.integers(0, 4)):
        query["message"] = {
            "message_id": draw(st.integers(1, 2**31)),
            "date": 1_760_000_000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": 424242, "is_bot": True, "first_name": "Bot"},
            "text": draw(short_text) or "x",
            "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "tip:send"}]]},
        }
    return query


MESSAGE_KINDS = (
    "message",
    "message",
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
)
OTHER_KINDS = ("inline_query", "my_chat_member", "chat_member", "poll", "message_reaction", "some_future_update_type")
update_id = st.one_of(
    st.integers(1, EMULATOR_UPDATE_IDS.start - 1),
    st.integers(EMULATOR_UPDATE_IDS.stop, 2**62),
    st.integers(-(2**70), 0),
    st.integers(2**63, 2**80),
)
payload = weighted(
    (4, st.tuples(st.sampled_from(("message", "message", "message", "edited_message")), plausible_message())),
    (3, st.tuples(st.just("callback_query"), plausible_callback())),
    (1, st.tuples(st.sampled_from(MESSAGE_KINDS), message)),
    (1, st.tuples(st.just("callback_query"), callback_query)),
    (1, st.tuples(st.sampled_from(OTHER_KINDS), json_value)),
    (1, st.tuples(st.sampled_from((*MESSAGE_KINDS, "callback_query")), json_value)),
)


@st.composite
def update_dict(draw: st.DrawFn) -> dict[str, Any]:
    kind, body = draw(payload)
    update: dict[str, Any] = {"update_id": draw(update_id), kind: body}
    if draw(st.integers(0, 9)) == 0:  # sometimes two kinds at once, or an extra unknown field
        update[draw(st.sampled_from(["message", "callback_query", "zzz"]))] = draw(json_value)
    return update


def _deep(depth: int) -> bytes:
    return b'{"update_id": 7, "message": ' + b"[" * depth + b"]" * depth + b"}"


def _encode(update: dict[str, Any], ascii_only: bool) -> bytes:
    """JSON as Telegram might send it: raw UTF-8, or \\u escapes (the only way to carry a lone surrogate)."""
    try:
        return json.dumps(update, ensure_ascii=ascii_only).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(update).encode("ascii")


raw_body = st.one_of(
    st.integers(2, 50_000).map(_deep),
    st.binary(max_size=300),
    st.builds(lambda value: json.dumps(value).encode(), st.lists(json_value, max_size=3)),
    st.builds(lambda update, cut: _encode(update, True)[:cut], update_dict(), st.integers(0, 400)),
    st.builds(lambda update: _encode(update, False).replace(b'"', b"\xff", 1), update_dict()),
)
body = weighted((8, st.builds(_encode, update_dict(), st.booleans())), (1, raw_body))
