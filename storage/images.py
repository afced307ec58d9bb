"""Object images: decoded, re-encoded without any metadata, and stored by content hash.

Shared by the catalog import CLI and the dashboard upload (neither may import the other). The
original bytes are never kept or sent: only the re-encoded file is written, and it is opened
again to check that no EXIF, GPS, XMP or ICC data survived.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# Pillow (and its image libraries, 3-4 MiB resident) is imported when an image is first cleaned:
# the dashboard's upload views import this module, and a bot that never receives an upload
# should not carry it.

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_SIDE = 6000  # pixels, either side
MIN_SIDE = 16
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
# Keys Pillow exposes in `info` for metadata we must not keep.
METADATA_KEYS = frozenset({"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"})


class ImageError(ValueError):
    """The image is not acceptable; the message says why (shown to whoever uploaded it)."""


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    extension: str
    sha256: str
    width: int
    height: int

    @property
    def name(self) -> str:
        return self.sha256 + self.extension


def clean_image(raw: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> CleanImage:
    """Decode, re-encode in the same format without metadata, and verify the result (CPU-bound)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(raw) > max_bytes:
        raise ImageError(f"larger than {max_bytes // (1024 * 1024)} MB")
    try:
        # Decompression bombs: Pillow refuses the biggest from the header (`Image.MAX_IMAGE_PIXELS`),
        # and the size check refuses anything over MAX_SIDE before a pixel is decoded.
        with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            _check_size(width, height)
            probe.load()
            # Turned upright first: the EXIF orientation tag that said how is about to go.
            pixels = _pixels_only(ImageOps.exif_transpose(probe), image_format)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(f"not a PNG, JPEG or WebP image, or too large to decode ({type(exc).__name__})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"not a readable image ({type(exc).__name__})") from None
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": 90} if image_format in ("JPEG", "WEBP") else {"optimize": True}
    pixels.save(buffer, image_format, **options)
    data = buffer.getvalue()
    _verify_clean(data)
    return CleanImage(data, FORMATS[image_format], hashlib.sha256(data).hexdigest(), *pixels.size)


def _check_size(width: int, height: int) -> None:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ImageError(f"must be {MIN_SIDE}-{MAX_SIDE} pixels wide and high (this one is {width}×{height})")


def _pixels_only(image: Image.Image, image_format: str) -> Image.Image:
    """A fresh image holding only the pixels (and a palette): nothing from the file's headers."""
    from PIL import Image

    mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA", "P") else "RGBA"
    if image.mode == "P" and "transparency" in image.info:
        mode = "RGBA"  # keeps transparency without carrying the header field over
    converted = image.convert(mode) if mode != image.mode else image
    clean = Image.new(converted.mode, converted.size)
    if converted.mode == "P":
        palette = converted.getpalette()
        if palette is not None:
            clean.putpalette(palette)
    clean.paste(converted)
    if image_format == "JPEG" and clean.mode in ("RGBA", "LA", "P"):
        clean = clean.convert("RGB")
    return clean


def _verify_clean(data: bytes) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as check:
        left = METADATA_KEYS & set(check.info)
        if left or check.getexif():
            raise ImageError(f"metadata survived re-encoding: {', '.join(sorted(left)) or 'EXIF'}")


def store_clean_image(image: CleanImage, media_dir: Path) -> str:
    """Write the re-encoded image into the media folder by content hash; returns its file name (blocking)."""
    media_dir.mkdir(parents=True, exist_ok=True)
    target = media_dir / image.name
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(image.data)
        partial.replace(target)
    return image.name
