"""Object images: re-encoded with only their pixels, whatever metadata or tricks the file carried."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from bot.catalog import CatalogError, store_image
from storage.images import ImageError, clean_image
from storage.records import CampaignRecord
from storage.uow import Database
from tests.support.images import has_metadata, jpeg_with_gps

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GPSLatitude="52,31N"/></rdf:RDF></x:xmpmeta>'


def png_with_text_and_transparency() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at Main Street 5")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    image = Image.new("P", (32, 32), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, transparency=0)
    return buffer.getvalue()


def webp_with_exif_and_xmp() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 128, 0)).save(buffer, "WEBP", exif=exif, xmp=XMP)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be huge: refused from its header, before anything is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("make", "image_format"),
    [(jpeg_with_gps, "JPEG"), (png_with_text_and_transparency, "PNG"), (webp_with_exif_and_xmp, "WEBP")],
)
def test_metadata_is_removed(make: object, image_format: str) -> None:
    raw = make()  # type: ignore[operator]
    assert has_metadata(raw) or b"xmpmeta" in raw or b"Main Street" in raw
    clean = clean_image(raw)
    assert not has_metadata(clean.data)
    assert b"xmpmeta" not in clean.data and b"Main Street" not in clean.data and b"SpyCam" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as image, Image.open(io.BytesIO(raw)) as original:
        assert image.format == image_format and image.size == original.size
        assert "transparency" not in image.info
        if image_format == "PNG":  # the palette's transparent index became real alpha, pixels intact
            assert image.mode == "RGBA" and image.getpixel((0, 0)) == (255, 0, 0, 255)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (png_header_only(30_000, 30_000), "too large to decode"),  # Pillow's bomb guard, before decoding
        (png_header_only(7000, 20), "16-6000 pixels"),
        (png_header_only(8, 8), "16-6000 pixels"),
        (b"GIF89a" + b"\0" * 64, "not a PNG, JPEG or WebP"),
        (jpeg_with_gps()[:200], "not a readable image"),
        (b"\0" * 11 * 1024 * 1024, "larger than 10 MB"),
    ],
)
def test_bad_images_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        clean_image(raw)


def test_a_sideways_photo_is_turned_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; show it rotated 90° clockwise
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 10, 200)).save(buffer, "JPEG", exif=exif)
    clean = clean_image(buffer.getvalue())
    assert (clean.width, clean.height) == (20, 40)
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.size == (20, 40) and not image.getexif()


def test_catalog_import_stores_only_the_clean_image(tmp_path: Path) -> None:
    source = tmp_path / "tile.jpg"
    source.write_bytes(jpeg_with_gps())
    name, digest = store_image(source, tmp_path / "media")
    stored = (tmp_path / "media" / name).read_bytes()
    assert not has_metadata(stored) and name.startswith(digest) and stored != source.read_bytes()
    assert store_image(source, tmp_path / "media") == (name, digest), "the same file gives the same result"
    source.write_bytes(b"GIF89a" + b"\0" * 64)
    with pytest.raises(CatalogError, match="not a PNG, JPEG or WebP"):
        store_image(source, tmp_path / "media")


def test_campaign_state_follows_its_dates() -> None:
    campaign = CampaignRecord(1, "spring", "Spring", "active", starts_on=date(2026, 3, 1), ends_on=date(2026, 5, 31))
    assert campaign.state_on(date(2026, 2, 28)) == "paused"
    assert campaign.state_on(date(2026, 3, 1)) == campaign.state_on(date(2026, 5, 31)) == "active"
    assert campaign.state_on(date(2026, 6, 1)) == "ended"
    paused = CampaignRecord(1, "spring", "Spring", "paused", ends_on=date(2026, 5, 31))
    assert paused.state_on(date(2026, 7, 1)) == "paused"


async def test_file_id_is_kept_only_for_the_current_image(database: Database) -> None:
    async with database.unit_of_work() as uow:
        obj = await uow.objects.create(
            reference="TAO-0001", question="Q?", hint=None, translations={}, image_path="old.png", image_sha256="a"
        )
        assert obj is not None
        await uow.objects.remember_file_id(obj.id, "file-old", "old.png")
        assert (await uow.objects.get(obj.id)).telegram_file_id == "file-old"  # type: ignore[union-attr]
        await uow.objects.set_image(obj.id, "new.png", "b")
        assert (await uow.objects.get(obj.id)).telegram_file_id is None  # type: ignore[union-attr]
        await uow.objects.remember_file_id(obj.id, "file-old", "old.png")  # a send of the old image finishing late
        assert (await uow.objects.get(obj.id)).telegram_file_id is None  # type: ignore[union-attr]
        await uow.objects.remember_file_id(obj.id, "file-new", "new.png")
        assert (await uow.objects.get(obj.id)).telegram_file_id == "file-new"  # type: ignore[union-attr]
