"""Stored files: uploads from the bot and media "sent" by simulated users."""

from __future__ import annotations

import itertools
import secrets
import struct
from dataclasses import dataclass
from typing import Any

_PREFIX = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC"}
_FOLDER = {"photo": "photos", "sticker": "stickers", "voice": "voice"}
_EXTENSION = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "audio/ogg": "oga",
    "application/pdf": "pdf",
}


@dataclass(frozen=True)
class StoredFile:
    """One file as the emulated Telegram server keeps it."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo" | "document" | "sticker" | "voice"
    data: bytes
    mime_type: str
    file_path: str
    width: int = 0
    height: int = 0
    file_name: str | None = None

    @property
    def file_size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def to_file(self) -> dict[str, Any]:
        """The ``File`` object getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def photo_size(self) -> dict[str, Any]:
        """A ``PhotoSize`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.file_size,
        }


class FileStore:
    """All files by file_id and by download path."""

    def __init__(self) -> None:
        """Start empty."""
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[StoredFile]] = {}
        self._counter = itertools.count(1)

    def add(
        self,
        kind: str,
        data: bytes,
        mime_type: str | None = None,
        file_name: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        """Store ``data`` under a fresh file_id."""
        number = next(self._counter)
        sniffed = sniff_image(data)
        mime = mime_type or (sniffed[0] if sniffed else "application/octet-stream")
        width, height = size or (sniffed[1:] if sniffed else (0, 0))
        extension = _EXTENSION.get(mime, "bin")
        folder = _FOLDER.get(kind, "documents")
        stored = StoredFile(
            file_id=f"{_PREFIX.get(kind, 'BQAC')}{number:06d}{secrets.token_urlsafe(18)}",
            file_unique_id=f"AQAD{number:06d}{secrets.token_hex(3)}",
            kind=kind,
            data=data,
            mime_type=mime,
            file_path=f"{folder}/file_{number}.{extension}",
            width=width,
            height=height,
            file_name=file_name,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """Look up by file_id."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """Look up by the path used in file downloads."""
        return self._by_path.get(file_path)

    def add_photo(self, data: bytes, mime_type: str, width: int, height: int) -> list[StoredFile]:
        """A thumbnail and a full size, like Telegram's PhotoSize list (same bytes)."""
        full = self.add("photo", data, mime_type, size=(width, height))
        sizes = [full]
        longest = max(width, height)
        if longest > 90:
            scale = 90 / longest
            thumb_size = (max(round(width * scale), 1), max(round(height * scale), 1))
            sizes.insert(0, self.add("photo", data, mime_type, size=thumb_size))
        for size in sizes:
            self._photo_sets[size.file_id] = sizes
        return sizes

    def photo_set(self, file_id: str) -> list[StoredFile]:
        """Every size of the photo that ``file_id`` belongs to (resending by file_id)."""
        stored = self._by_id.get(file_id)
        if stored is None:
            return []
        return self._photo_sets.get(file_id, [stored])


def sniff_image(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) for PNG, JPEG, GIF, WebP and BMP; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "image/bmp", abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", *_webp_size(data)
    if data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
        return ("image/jpeg", *size) if size else None
    return None


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the marker segments up to the first start-of-frame, which holds the dimensions.
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None
