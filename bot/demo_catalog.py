"""A clearly synthetic demo catalog, drawn here with Pillow (never real case material)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = (640, 480)
Drawing = Callable[[ImageDraw.ImageDraw, random.Random], None]


def _mug(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.rectangle((0, 0, *SIZE), fill=(232, 226, 214))
    draw.rounded_rectangle((200, 130, 420, 390), radius=24, fill=(38, 92, 160))
    draw.arc((390, 190, 490, 320), start=-80, end=80, fill=(38, 92, 160), width=22)
    for index in range(6):  # hand-painted dots
        x, y = 230 + index * 32, 220 + int(20 * math.sin(index))
        draw.ellipse((x, y, x + 18, y + 18), fill=(250, 200, 60))
    draw.ellipse((200, 118, 420, 146), fill=(25, 60, 110))


def _curtain(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    for x in range(0, SIZE[0], 40):
        shade = 150 + (x // 40 % 2) * 40
        draw.rectangle((x, 0, x + 40, SIZE[1]), fill=(shade, 60, 70))
    for y in range(30, SIZE[1], 90):
        for x in range(20, SIZE[0], 80):
            draw.regular_polygon((x, y, 16), n_sides=6, fill=(240, 210, 120))


def _bottle_label(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.rectangle((0, 0, *SIZE), fill=(30, 90, 60))
    draw.ellipse((140, 110, 500, 370), fill=(245, 240, 220), outline=(180, 140, 40), width=8)
    draw.text((250, 200), "AQUA FONTIS", fill=(120, 40, 30))
    draw.text((262, 240), "0,5 L  ~  1897", fill=(60, 60, 60))
    for angle in range(0, 360, 30):
        x = 320 + 150 * math.cos(math.radians(angle))
        y = 240 + 100 * math.sin(math.radians(angle))
        draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=(180, 140, 40))


def _wallpaper(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.rectangle((0, 0, *SIZE), fill=(210, 225, 205))
    for y in range(0, SIZE[1], 60):
        for x in range(0, SIZE[0], 60):
            offset = 30 if (y // 60) % 2 else 0
            cx, cy = x + offset, y + 30
            draw.ellipse((cx - 14, cy - 22, cx + 14, cy + 22), outline=(80, 120, 90), width=3)
            draw.line((cx, cy + 22, cx, cy + 40), fill=(80, 120, 90), width=3)


def _toy(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.rectangle((0, 0, *SIZE), fill=(250, 245, 235))
    draw.ellipse((230, 150, 410, 360), fill=(200, 120, 60))  # body
    draw.ellipse((260, 80, 380, 200), fill=(210, 130, 70))  # head
    draw.ellipse((255, 70, 295, 110), fill=(190, 110, 50))
    draw.ellipse((345, 70, 385, 110), fill=(190, 110, 50))
    draw.ellipse((295, 125, 307, 137), fill=(20, 20, 20))
    draw.ellipse((333, 125, 345, 137), fill=(20, 20, 20))
    draw.rectangle((280, 210, 360, 230), fill=(40, 120, 200))  # scarf


OBJECTS: tuple[tuple[str, str, str, Drawing], ...] = (
    ("TAO-0001", "mug.png", "Do you know where this blue mug with yellow dots is sold?", _mug),
    ("TAO-0002", "curtain.png", "Have you seen this curtain pattern in a shop or a home?", _curtain),
    ("TAO-0003", "bottle-label.png", "Do you recognise this bottle label? Which country is it from?", _bottle_label),
    ("TAO-0004", "wallpaper.png", "Where could this wallpaper have been bought?", _wallpaper),
    ("TAO-0005", "toy.png", "Do you know this soft toy, its brand or where it is sold?", _toy),
)


# The demo questions in some of the reporters' languages (catalog `[objects.translations.<lang>]`).
QUESTION_TRANSLATIONS: dict[str, dict[str, str]] = {
    "TAO-0001": {
        "de": "Wissen Sie, wo diese blaue Tasse mit gelben Punkten verkauft wird?",
        "fr": "Savez-vous où cette tasse bleue à pois jaunes est vendue ?",
        "es": "¿Sabe dónde se vende esta taza azul con lunares amarillos?",
        "it": "Sa dove viene venduta questa tazza blu a pois gialli?",
        "pl": "Czy wiesz, gdzie można kupić ten niebieski kubek w żółte kropki?",
        "nl": "Weet u waar deze blauwe mok met gele stippen wordt verkocht?",
        "ar": "هل تعرف أين يُباع هذا الكوب الأزرق ذو النقاط الصفراء؟",
    },
    "TAO-0002": {
        "de": "Haben Sie dieses Vorhangmuster in einem Geschäft oder einer Wohnung gesehen?",
        "fr": "Avez-vous vu ce motif de rideau dans un magasin ou chez quelqu'un ?",
        "es": "¿Ha visto este estampado de cortina en una tienda o en una casa?",
        "it": "Ha visto questo motivo di tenda in un negozio o in una casa?",
        "pl": "Czy widziałeś ten wzór zasłony w sklepie lub w czyimś domu?",
        "nl": "Hebt u dit gordijnpatroon in een winkel of in een huis gezien?",
        "ar": "هل رأيت نقشة هذه الستارة في متجر أو في منزل؟",
    },
    "TAO-0003": {
        "de": "Erkennen Sie dieses Flaschenetikett? Aus welchem Land stammt es?",
        "fr": "Reconnaissez-vous cette étiquette de bouteille ? De quel pays vient-elle ?",
        "es": "¿Reconoce esta etiqueta de botella? ¿De qué país es?",
        "it": "Riconosce questa etichetta di bottiglia? Da quale paese proviene?",
        "pl": "Czy rozpoznajesz tę etykietę butelki? Z jakiego kraju pochodzi?",
        "nl": "Herkent u dit flesetiket? Uit welk land komt het?",
        "ar": "هل تعرف ملصق هذه الزجاجة؟ من أي بلد هو؟",
    },
    "TAO-0004": {
        "de": "Wo könnte diese Tapete gekauft worden sein?",
        "fr": "Où ce papier peint a-t-il pu être acheté ?",
        "es": "¿Dónde se pudo haber comprado este papel pintado?",
        "it": "Dove potrebbe essere stata acquistata questa carta da parati?",
        "pl": "Gdzie mogła zostać kupiona ta tapeta?",
        "nl": "Waar zou dit behang gekocht kunnen zijn?",
        "ar": "أين يمكن أن يكون ورق الجدران هذا قد اشتُري؟",
    },
    "TAO-0005": {
        "de": "Kennen Sie dieses Plüschtier, seine Marke oder wo es verkauft wird?",
        "fr": "Connaissez-vous cette peluche, sa marque ou l'endroit où elle est vendue ?",
        "es": "¿Conoce este peluche, su marca o dónde se vende?",
        "it": "Conosce questo peluche, la sua marca o dove viene venduto?",
        "pl": "Czy znasz tę przytulankę, jej markę lub miejsce, gdzie jest sprzedawana?",
        "nl": "Kent u deze knuffel, het merk of waar hij wordt verkocht?",
        "ar": "هل تعرف هذه الدمية المحشوة أو علامتها التجارية أو مكان بيعها؟",
    },
}


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(drawing: Drawing, seed: int) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    drawing(draw, random.Random(seed))
    draw.rectangle((0, SIZE[1] - 34, SIZE[0], SIZE[1]), fill=(0, 0, 0))
    draw.text((12, SIZE[1] - 26), "SYNTHETIC DEMO IMAGE - NOT CASE MATERIAL", fill=(255, 255, 255))
    return image


def write_demo_catalog(folder: Path) -> Path:
    """Draw the demo objects and their `catalog.toml` into `folder` (idempotent, deterministic)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for seed, (reference, filename, question, drawing) in enumerate(OBJECTS):
        target = folder / filename
        if not target.exists():
            render(drawing, seed).save(target, format="PNG", optimize=True)
        lines += ["[[objects]]", f'reference = "{reference}"', f'image = "{filename}"', f'question = "{question}"', ""]
        for language, translated in QUESTION_TRANSLATIONS.get(reference, {}).items():
            lines += [f"[objects.translations.{language}]", f"question = {_toml_string(translated)}", ""]
    lines += [
        "[[campaigns]]",
        'code = "demo"',
        'title = "Demo campaign (synthetic objects)"',
        'objects = ["TAO-0001", "TAO-0002", "TAO-0003", "TAO-0004", "TAO-0005"]',
        "",
    ]
    (folder / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    return folder
