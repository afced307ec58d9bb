"""Telegram's HTML parse mode: text + entities, with Telegram's limits and error messages.

Telegram measures text and entity offsets in UTF-16 code units, and reports parse errors
with UTF-8 byte offsets; both are reproduced here so that length limits and error texts match
what a bot sees in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import bad_request, entities_error

Entity = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Telegram trims these from both ends of every message text and caption.
_TRIM_CHARS = " \t\r\n\v\f"

# Tag name -> entity type, for the tags whose meaning does not depend on attributes.
_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
ALLOWED_TAGS = frozenset({*_SIMPLE_TAGS, "span", "a", "blockquote", "tg-emoji"})

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
    }
)  # fmt: skip

_ENTITY_REF = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z]{2,8});")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass
class ParsedText:
    """Text as Telegram stores it, plus its entities (offsets in UTF-16 units)."""

    text: str
    entities: list[Entity] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output where the tag's content begins


class _HtmlParser:
    """A single-pass parser mirroring Telegram's (tdlib's) HTML rules."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 units written so far
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out_len += utf16_len(chunk)

    def parse(self) -> ParsedText:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            elif ch == "&":
                self.char_ref()
            else:
                nxt = len(src)
                for stop in ("<", "&"):
                    found = src.find(stop, self.pos)
                    if found != -1:
                        nxt = min(nxt, found)
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise entities_error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return ParsedText("".join(self.out), self.entities)

    def char_ref(self) -> None:
        match = _ENTITY_REF.match(self.src, self.pos)
        if match is None:
            # Telegram keeps a lone ampersand as-is.
            self.emit("&")
            self.pos += 1
            return
        ref = match.group(1)
        value: str | None
        if ref.startswith("#"):
            code = int(ref[2:], 16) if ref[1:2] in ("x", "X") else int(ref[1:])
            valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
            value = chr(code) if valid else None
        else:
            value = _NAMED_REFS.get(ref.lower())
        if value is None:
            self.emit("&")
            self.pos += 1
            return
        self.emit(value)
        self.pos = match.end()

    def start_tag(self) -> None:
        src, begin = self.src, self.pos
        i = begin + 1
        while i < len(src) and not src[i].isspace() and src[i] not in ">":
            i += 1
        if i >= len(src):
            raise entities_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = src[begin + 1 : i].lower()
        if name not in ALLOWED_TAGS:
            raise entities_error(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        attrs, i = self.attributes(name, i, begin)
        self.pos = i + 1  # past ">"
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise entities_error(f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}')
        self.stack.append(_OpenTag(name, attrs, self.out_len))

    def attributes(self, tag: str, i: int, begin: int) -> tuple[dict[str, str], int]:
        src = self.src
        attrs: dict[str, str] = {}
        while True:
            while i < len(src) and src[i].isspace():
                i += 1
            if i >= len(src):
                raise entities_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[i] == ">":
                return attrs, i
            start = i
            while i < len(src) and not src[i].isspace() and src[i] not in "=>":
                i += 1
            attr = src[start:i].lower()
            if not attr:
                raise entities_error(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}'
                )
            while i < len(src) and src[i].isspace():
                i += 1
            if i < len(src) and src[i] == "=":
                value, i = self.attribute_value(i + 1, begin)
            else:
                value = ""  # e.g. <blockquote expandable>
            attrs[attr] = value

    def attribute_value(self, i: int, begin: int) -> tuple[str, int]:
        src = self.src
        while i < len(src) and src[i].isspace():
            i += 1
        if i < len(src) and src[i] in "'\"":
            end = src.find(src[i], i + 1)
            if end == -1:
                raise entities_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            return _unescape(src[i + 1 : end]), end + 1
        start = i
        while i < len(src) and not src[i].isspace() and src[i] != ">":
            i += 1
        return _unescape(src[start:i]), i

    def end_tag(self) -> None:
        src, begin = self.src, self.pos
        close = src.find(">", begin)
        if close == -1:
            raise entities_error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        name = src[begin + 2 : close].strip().lower()
        self.pos = close + 1
        if not self.stack:
            raise entities_error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        top = self.stack.pop()
        if top.name != name:
            raise entities_error(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.close_entity(top)

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.start
        entity: Entity | None = None
        if tag.name in _SIMPLE_TAGS:
            entity = {"type": _SIMPLE_TAGS[tag.name]}
        elif tag.name == "span":
            entity = {"type": "spoiler"}
        elif tag.name == "a":
            href = tag.attrs.get("href", "").strip()
            entity = {"type": "text_link", "url": href} if href else None
        elif tag.name == "blockquote":
            expandable = "expandable" in tag.attrs
            entity = {"type": "expandable_blockquote" if expandable else "blockquote"}
        elif tag.name == "tg-emoji":
            emoji_id = tag.attrs.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise entities_error('Custom emoji entity must contain a tag "emoji-id"')
            entity = {"type": "custom_emoji", "custom_emoji_id": emoji_id}
        if entity is None or length <= 0:
            return
        if entity["type"] == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is how Telegram spells a pre block's language.
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].attrs["language"] = language.removeprefix("language-")
                return
        if entity["type"] == "pre" and tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
        entity.update(offset=tag.start, length=length)
        self.entities.append(entity)


def _unescape(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("#"):
            code = int(ref[2:], 16) if ref[1:2] in ("x", "X") else int(ref[1:])
            return chr(code) if 0 < code <= 0x10FFFF else match.group(0)
        return _NAMED_REFS.get(ref.lower(), match.group(0))

    return _ENTITY_REF.sub(replace, value)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML; raises ``ApiError`` 400 "can't parse entities: ..." when invalid."""
    return _HtmlParser(source).parse()


def unescape_markdown_v2(source: str) -> str:
    """Drop MarkdownV2's backslash escapes (entities are not modelled for Markdown modes)."""
    return re.sub(r"\\(.)", r"\1", source, flags=re.DOTALL)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Telegram's order: by offset, longer (outer) entities first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def trim(parsed: ParsedText) -> ParsedText:
    """Strip surrounding whitespace like Telegram, shifting and clipping entities to match."""
    text = parsed.text
    stripped = text.lstrip(_TRIM_CHARS)
    lead = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip(_TRIM_CHARS)
    total = utf16_len(stripped)
    entities: list[Entity] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, sort_entities(entities))


def check_entities(raw: object, text: str) -> list[Entity]:
    """Validate an explicit ``entities`` parameter and clip it to the text like Telegram."""
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    result: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: object expected")
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if not isinstance(kind, str) or kind not in ENTITY_TYPES:
            raise bad_request(f'can\'t parse MessageEntity: unsupported type "{kind}"')
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0:
            raise bad_request("can't parse MessageEntity: wrong offset or length")
        if kind == "text_link" and not item.get("url"):
            raise bad_request('can\'t parse MessageEntity: field "url" must be non-empty')
        end = min(offset + length, total)
        if end > offset:
            result.append({**item, "offset": offset, "length": end - offset})
    return sort_entities(result)


def plain_text_for(source: str, parse_mode: str | None) -> ParsedText:
    """Text and entities for ``source`` sent with ``parse_mode`` (before trimming)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(source)
    if mode == "markdownv2":
        return ParsedText(unescape_markdown_v2(source))
    if mode in ("", "markdown"):
        return ParsedText(source)
    raise bad_request("unsupported parse_mode")
