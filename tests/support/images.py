"""Images carrying the metadata uploads must lose: EXIF with GPS, an ICC profile, a comment."""

from __future__ import annotations

import io

from PIL import ExifTags, Image, ImageCms


def jpeg_with_gps(colour: tuple[int, int, int] = (200, 10, 10)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (13.0, 24.0, 0.0),
        }
    )
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG", exif=exif, icc_profile=icc, comment=b"shot at home")
    data = buffer.getvalue()
    assert has_metadata(data), "the test image really carries GPS, ICC and a comment"
    return data


def has_metadata(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return (
            bool(exif)
            or bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
            or bool({"exif", "icc_profile", "comment", "xmp"} & set(image.info))
        )
