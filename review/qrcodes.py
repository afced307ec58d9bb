"""QR codes for posters: PNG and SVG, with the link printed under the code."""

from __future__ import annotations

import html
import io

# segno and Pillow are imported when a code is first drawn (start-up and memory of a bot whose
# managers never print a poster).

SCALE = 10  # pixels per module in the PNG
BORDER = 4  # quiet zone, in modules (the QR standard asks for 4)
CAPTION_PIXELS = 22
MARGIN = 16


def qr_png(url: str) -> bytes:
    """The code (black on white) with `url` centred under it."""
    import segno
    from PIL import Image, ImageDraw, ImageFont

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=SCALE, border=BORDER)
    with Image.open(io.BytesIO(buffer.getvalue())) as code:
        code_image = code.convert("L")
    font = ImageFont.load_default(size=CAPTION_PIXELS)
    left, top, right, bottom = (round(edge) for edge in ImageDraw.Draw(code_image).textbbox((0, 0), url, font=font))
    width = max(code_image.width, right - left + 2 * MARGIN)
    canvas = Image.new("L", (width, code_image.height + bottom - top + MARGIN), 255)
    canvas.paste(code_image, ((width - code_image.width) // 2, 0))
    ImageDraw.Draw(canvas).text(((width - (right - left)) // 2 - left, code_image.height - top), url, fill=0, font=font)
    output = io.BytesIO()
    canvas.save(output, "PNG", optimize=True)
    return output.getvalue()


def qr_svg(url: str) -> str:
    """A standalone SVG: the code as paths, and `url` as real text under it (scales for print)."""
    import segno

    qr = segno.make(url, error="m")
    size = qr.symbol_size(scale=SCALE, border=BORDER)[0]
    width = max(size, int(len(url) * 8.4) + 2 * MARGIN)  # monospace at 14 px: about 8.4 px a character
    height = size + 2 * MARGIN
    code = qr.svg_inline(scale=SCALE, border=BORDER, omitsize=False)
    code = code.replace("<svg ", f'<svg x="{(width - size) // 2}" y="0" ', 1)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="#fff"/>{code}'
        f'<text x="{width // 2}" y="{size + MARGIN}" text-anchor="middle" font-family="monospace" font-size="14" '
        f'fill="#000">{html.escape(url)}</text></svg>'
    )
