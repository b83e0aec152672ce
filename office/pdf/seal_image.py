"""Demo seal images (a red ring, a star, the organ's name around the top) drawn with Pillow.

Only for the demo and tests: a real organ's seal image comes from its registered seal, and a
statutory electronic seal from the GB/T 38540 adapter (office.pdf.eseal).
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

RED = (230, 0, 18, 255)


def _font_path() -> str | None:
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:bold"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        return out or None
    except (OSError, subprocess.SubprocessError):
        return None


def make_seal(name: str, path: str | Path, size: int = 500) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = size / 2
    ring = size * 0.035
    draw.ellipse([ring / 2, ring / 2, size - ring / 2, size - ring / 2], outline=RED, width=int(ring))
    # five-pointed star
    r_out, r_in = size * 0.16, size * 0.16 * 0.382
    pts = []
    for k in range(10):
        r = r_out if k % 2 == 0 else r_in
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    draw.polygon(pts, fill=RED)
    fp = _font_path()
    font = ImageFont.truetype(fp, int(size * 0.11)) if fp else ImageFont.load_default()
    chars = list(name)
    n = len(chars)
    span = min(math.radians(250), math.radians(28) * max(n - 1, 1))
    radius = size * 0.375
    for i, ch in enumerate(chars):
        a = -math.pi / 2 - span / 2 + (span * i / (n - 1) if n > 1 else span / 2)
        glyph = Image.new("RGBA", (int(size * 0.14), int(size * 0.14)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, font=font, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(a + math.pi / 2), resample=Image.BICUBIC)
        x = c + radius * math.cos(a) - glyph.width / 2
        y = c + radius * math.sin(a) - glyph.height / 2
        img.alpha_composite(glyph, (int(x), int(y)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)
    return path
