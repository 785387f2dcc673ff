"""Generated product pictures for the demo: a soft gradient and a simple illustration per kind of
produce, with the product's name when a CJK font is installed. Deterministic for a given seed.

Pictures are drawn at twice their size and scaled down, so that edges look smooth.
"""
from __future__ import annotations

import io
import math
import os
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]


def _hex(value: str) -> RGB:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def _shade(c: RGB, t: float) -> RGB:
    """t > 0 lightens towards white, t < 0 darkens towards black."""
    return _mix(c, (255, 255, 255), t) if t >= 0 else _mix(c, (0, 0, 0), -t)


@lru_cache(maxsize=1)
def font_path() -> tuple[str, int] | None:
    """A font that has Chinese glyphs (path, face index), or None: then pictures carry no text."""
    override = os.environ.get("MARKETPLACE_CJK_FONT")
    for path in ([override] if override else []) + FONT_CANDIDATES:
        if not path or not Path(path).is_file():
            continue
        index = 0
        if path.endswith(".ttc"):  # prefer the Simplified Chinese face of a collection
            for i in range(6):
                try:
                    if "SC" in " ".join(ImageFont.truetype(path, 12, index=i).getname()):
                        index = i
                        break
                except OSError:
                    break
        try:
            ImageFont.truetype(path, 12, index=index)
        except OSError:
            continue
        return path, index
    return None


@lru_cache(maxsize=32)
def _font(size: int):
    found = font_path()
    return ImageFont.truetype(found[0], size, index=found[1]) if found else None


# ---- palettes: background (top, bottom), and the motif's own colours ---------------------------

BACKGROUNDS: dict[str, tuple[str, str]] = {
    "tea": ("#eef7e4", "#b9dca0"),
    "fruit": ("#fff4e0", "#ffd59a"),
    "jujube": ("#fdece6", "#f2b8a6"),
    "rice-grain": ("#fbf6e9", "#e8d9b0"),
    "oil": ("#fff9e6", "#f3dc95"),
    "dried": ("#f6efe7", "#dcc6ad"),
    "poultry-eggs": ("#fef8ec", "#f1dcb6"),
    "herbs": ("#eef4ec", "#c3d6bb"),
    "crafts": ("#f3eee6", "#d8c7ab"),
}


def _background(size: int, top: RGB, bottom: RGB) -> Image.Image:
    column = bytes(v for y in range(size) for v in _mix(top, bottom, y / max(1, size - 1)))
    return Image.frombytes("RGB", (1, size), column).resize((size, size), Image.Resampling.NEAREST)


# ---- motifs: each draws into a square of side s (already supersampled) --------------------------

def _leaf(d: ImageDraw.ImageDraw, cx, cy, length, angle, color: RGB):
    pts = []
    for i in range(25):
        t = i / 24
        x = (t - 0.5) * length
        w = math.sin(math.pi * t) * length * 0.22
        pts.append((x, w))
    pts += [(x, -w) for x, w in reversed(pts)]
    ca, sa = math.cos(angle), math.sin(angle)
    poly = [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in pts]
    d.polygon(poly, fill=color)
    vein = [(cx - 0.45 * length * ca, cy - 0.45 * length * sa),
            (cx + 0.45 * length * ca, cy + 0.45 * length * sa)]
    d.line(vein, fill=_shade(color, 0.35), width=max(1, int(length * 0.03)))


def _leaves(d, s, rng, colors=("#4f9a3a", "#6fb34f", "#3d7f2c"), n=9):
    for _ in range(n):
        _leaf(d, rng.uniform(0.2, 0.8) * s, rng.uniform(0.25, 0.7) * s, rng.uniform(0.16, 0.28) * s,
              rng.uniform(0, math.pi), _hex(rng.choice(colors)))


def _tin(d, s, rng, body="#2f6b3a", band="#d8b45a"):
    x0, x1, y0, y1 = 0.34 * s, 0.66 * s, 0.22 * s, 0.68 * s
    c = _hex(body)
    d.rectangle([x0, y0, x1, y1], fill=c)
    d.ellipse([x0, y1 - 0.05 * s, x1, y1 + 0.05 * s], fill=c)
    d.ellipse([x0, y0 - 0.05 * s, x1, y0 + 0.05 * s], fill=_shade(c, 0.25))
    d.rectangle([x0, 0.38 * s, x1, 0.5 * s], fill=_hex(band))
    d.rectangle([x0 + 0.03 * s, y0 + 0.04 * s, x0 + 0.06 * s, y1 - 0.02 * s], fill=_shade(c, 0.18))
    for i in range(3):
        _leaf(d, (0.2 + 0.3 * i) * s + rng.uniform(-0.03, 0.03) * s, 0.72 * s, 0.16 * s,
              rng.uniform(-0.6, 0.6), _hex("#5ea444"))


def _tea(d, s, rng):
    _leaves(d, s, rng)


def _tea_tin(d, s, rng):
    _tin(d, s, rng)


def _tea_red(d, s, rng):
    _leaves(d, s, rng, colors=("#8a3b1c", "#a4502a", "#6f2d14"), n=6)
    cup = _hex("#f5efe6")
    d.pieslice([0.3 * s, 0.3 * s, 0.7 * s, 0.7 * s], 0, 180, fill=cup)
    d.ellipse([0.3 * s, 0.45 * s, 0.7 * s, 0.55 * s], fill=_hex("#9c3d12"))


def _tea_brick(d, s, rng):
    c = _hex("#6b4a2b")
    d.rounded_rectangle([0.22 * s, 0.28 * s, 0.78 * s, 0.68 * s], radius=0.03 * s, fill=c)
    for i in range(1, 6):
        x = 0.22 * s + i * 0.56 * s / 6
        d.line([(x, 0.3 * s), (x, 0.66 * s)], fill=_shade(c, -0.25), width=max(1, s // 200))
    for _ in range(40):
        x, y = rng.uniform(0.25, 0.75) * s, rng.uniform(0.31, 0.65) * s
        r = s * 0.006
        d.ellipse([x - r, y - r, x + r, y + r], fill=_hex("#d9b54a"))


FRUIT = {
    "orange": ("#f39322", 0.16, "round"), "citrus": ("#f7a21b", 0.11, "round"),
    "peach": ("#f7b267", 0.15, "peach"), "plum": ("#b3264f", 0.11, "round"),
    "pomelo": ("#d9e36a", 0.22, "round"), "loquat": ("#f4b63f", 0.09, "oval"),
    "kiwi": ("#8d6e3f", 0.14, "kiwi"),
}


def _fruit(kind: str):
    color, radius, shape = FRUIT[kind]

    def draw(d, s, rng):
        c = _hex(color)
        n = 3 if radius > 0.18 else (5 if radius > 0.12 else 7)
        spots = [(0.5, 0.45), (0.32, 0.6), (0.68, 0.6), (0.4, 0.34), (0.62, 0.33),
                 (0.22, 0.42), (0.78, 0.44)][:n]
        for i, (fx, fy) in enumerate(sorted(spots, key=lambda p: p[1])):
            r = radius * s * rng.uniform(0.9, 1.08)
            cx, cy = fx * s, fy * s
            if shape == "kiwi" and i == n - 1:
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_hex("#7bb33a"))
                d.ellipse([cx - r * 0.35, cy - r * 0.35, cx + r * 0.35, cy + r * 0.35],
                          fill=_hex("#f3f0c8"))
                for k in range(16):
                    a = k * math.pi / 8
                    px, py = cx + math.cos(a) * r * 0.5, cy + math.sin(a) * r * 0.5
                    d.ellipse([px - r * 0.04, py - r * 0.04, px + r * 0.04, py + r * 0.04],
                              fill=(40, 30, 20))
                continue
            box = [cx - r, cy - r * (0.8 if shape == "oval" else 1), cx + r,
                   cy + r * (0.8 if shape == "oval" else 1)]
            d.ellipse(box, fill=c)
            if shape == "peach":
                d.ellipse([cx - r * 0.9, cy - r * 0.6, cx + r * 0.1, cy + r * 0.7],
                          fill=_mix(c, _hex("#e8505b"), 0.45))
            d.ellipse([cx - r * 0.55, cy - r * 0.6, cx - r * 0.15, cy - r * 0.25],
                      fill=_shade(c, 0.45))
            if shape != "kiwi":
                _leaf(d, cx + r * 0.35, cy - r * 1.0, r * 0.7, -0.5, _hex("#4f9a3a"))
    return draw


def _ovals(color: str, n: int = 14, size: float = 0.07, shine: bool = True, ratio: float = 0.75):
    def draw(d, s, rng):
        c = _hex(color)
        for _ in range(n):
            cx, cy = rng.uniform(0.2, 0.8) * s, rng.uniform(0.3, 0.72) * s
            r = size * s * rng.uniform(0.85, 1.15)
            d.ellipse([cx - r, cy - r * ratio, cx + r, cy + r * ratio], fill=_shade(c, rng.uniform(-0.15, 0.05)))
            if shine:
                d.ellipse([cx - r * 0.6, cy - r * ratio * 0.6, cx - r * 0.1, cy - r * ratio * 0.2],
                          fill=_shade(c, 0.4))
    return draw


def _grains(color: str, stalk: str = "#c9a441"):
    def draw(d, s, rng):
        c = _hex(color)
        d.pieslice([0.15 * s, 0.45 * s, 0.85 * s, 1.05 * s], 180, 360, fill=_shade(c, -0.1))
        for _ in range(220):
            cx, cy = rng.uniform(0.18, 0.82) * s, rng.uniform(0.5, 0.74) * s
            if (cx - 0.5 * s) ** 2 / (0.35 * s) ** 2 + (cy - 0.75 * s) ** 2 / (0.3 * s) ** 2 > 1:
                continue
            r = 0.012 * s
            d.ellipse([cx - r, cy - r * 0.55, cx + r, cy + r * 0.55], fill=_shade(c, rng.uniform(-0.1, 0.3)))
        for k in range(3):
            x = (0.36 + 0.14 * k) * s
            d.line([(x, 0.5 * s), (x + 0.05 * s, 0.16 * s)], fill=_hex(stalk), width=max(1, s // 120))
            for j in range(6):
                y = 0.2 * s + j * 0.045 * s
                _leaf(d, x + 0.045 * s - j * 0.006 * s, y, 0.05 * s, 1.2, _hex(stalk))
    return draw


def _bottle(color: str):
    def draw(d, s, rng):
        c = _hex(color)
        d.rounded_rectangle([0.36 * s, 0.34 * s, 0.64 * s, 0.76 * s], radius=0.05 * s, fill=c)
        d.polygon([(0.36 * s, 0.38 * s), (0.45 * s, 0.24 * s), (0.55 * s, 0.24 * s),
                   (0.64 * s, 0.38 * s)], fill=c)
        d.rectangle([0.45 * s, 0.16 * s, 0.55 * s, 0.25 * s], fill=_hex("#a33a1f"))
        d.rectangle([0.38 * s, 0.48 * s, 0.62 * s, 0.62 * s], fill=_hex("#fdf7e8"))
        d.rectangle([0.39 * s, 0.38 * s, 0.42 * s, 0.72 * s], fill=_shade(c, 0.35))
        _leaf(d, 0.74 * s, 0.66 * s, 0.16 * s, -0.7, _hex("#4f9a3a"))
        d.ellipse([0.7 * s, 0.68 * s, 0.78 * s, 0.76 * s], fill=_hex("#7a4a24"))
    return draw


def _mushroom(color: str):
    def draw(d, s, rng):
        c = _hex(color)
        for fx, fy, fr in ((0.38, 0.5, 0.17), (0.63, 0.56, 0.13), (0.5, 0.68, 0.11)):
            cx, cy, r = fx * s, fy * s, fr * s
            d.rounded_rectangle([cx - r * 0.3, cy - r * 0.1, cx + r * 0.3, cy + r * 1.1],
                                radius=r * 0.15, fill=_hex("#efe2c8"))
            d.pieslice([cx - r, cy - r * 0.8, cx + r, cy + r * 0.8], 180, 360, fill=c)
            for _ in range(4):
                px, py = cx + rng.uniform(-0.6, 0.6) * r, cy - rng.uniform(0.15, 0.55) * r
                d.ellipse([px - r * 0.07, py - r * 0.05, px + r * 0.07, py + r * 0.05],
                          fill=_shade(c, 0.35))
    return draw


def _shoot(d, s, rng):
    for fx in (0.35, 0.5, 0.65):
        cx = fx * s
        d.polygon([(cx - 0.08 * s, 0.72 * s), (cx + 0.08 * s, 0.72 * s), (cx, 0.28 * s)],
                  fill=_hex("#b98b4e"))
        for j in range(4):
            y = 0.66 * s - j * 0.09 * s
            w = 0.075 * s * (1 - j * 0.22)
            d.line([(cx - w, y), (cx + w, y - 0.02 * s)], fill=_hex("#8a6233"), width=max(1, s // 150))


def _noodles(d, s, rng):
    c = _hex("#d9c7a2")
    for i in range(40):
        x = 0.3 * s + i * 0.4 * s / 40
        d.line([(x, 0.25 * s), (x + rng.uniform(-0.01, 0.01) * s, 0.75 * s)],
               fill=_shade(c, rng.uniform(-0.15, 0.1)), width=max(1, s // 160))
    d.rectangle([0.28 * s, 0.46 * s, 0.72 * s, 0.54 * s], fill=_hex("#c0392b"))


def _jar(fill: str, lid: str = "#a33a1f", mound: bool = False):
    def draw(d, s, rng):
        if mound:  # a bowl with a heap of powder or salt
            c = _hex(fill)
            d.pieslice([0.24 * s, 0.36 * s, 0.76 * s, 0.84 * s], 180, 360, fill=c,
                       outline=_shade(c, -0.3), width=max(1, s // 150))
            for _ in range(30):
                x, y = rng.uniform(0.34, 0.66) * s, rng.uniform(0.45, 0.58) * s
                r = s * 0.006
                d.ellipse([x - r, y - r, x + r, y + r], fill=_shade(c, -0.12))
            d.pieslice([0.18 * s, 0.4 * s, 0.82 * s, 0.8 * s], 0, 180, fill=_hex("#8a5a35"))
            d.rectangle([0.18 * s, 0.59 * s, 0.82 * s, 0.61 * s], fill=_hex("#6e4526"))
            return
        d.rounded_rectangle([0.32 * s, 0.3 * s, 0.68 * s, 0.76 * s], radius=0.06 * s,
                            fill=_hex(fill))
        d.rectangle([0.34 * s, 0.22 * s, 0.66 * s, 0.3 * s], fill=_hex(lid))
        d.rectangle([0.36 * s, 0.45 * s, 0.64 * s, 0.6 * s], fill=_hex("#fdf7e8"))
        d.rectangle([0.35 * s, 0.33 * s, 0.38 * s, 0.72 * s], fill=_shade(_hex(fill), 0.35))
    return draw


def _chicken(d, s, rng):
    body = _hex("#b5651d")
    d.ellipse([0.28 * s, 0.38 * s, 0.7 * s, 0.7 * s], fill=body)
    d.polygon([(0.3 * s, 0.5 * s), (0.16 * s, 0.3 * s), (0.22 * s, 0.52 * s)], fill=_hex("#2f4f2f"))
    d.ellipse([0.58 * s, 0.26 * s, 0.74 * s, 0.42 * s], fill=body)
    d.polygon([(0.6 * s, 0.27 * s), (0.64 * s, 0.2 * s), (0.67 * s, 0.25 * s), (0.71 * s, 0.21 * s),
               (0.72 * s, 0.29 * s)], fill=_hex("#d7263d"))
    d.polygon([(0.74 * s, 0.33 * s), (0.8 * s, 0.35 * s), (0.74 * s, 0.37 * s)], fill=_hex("#f2b134"))
    d.ellipse([0.66 * s, 0.3 * s, 0.69 * s, 0.33 * s], fill=(20, 20, 20))
    d.ellipse([0.38 * s, 0.46 * s, 0.6 * s, 0.62 * s], fill=_shade(body, -0.2))
    for x in (0.45, 0.55):
        d.line([(x * s, 0.69 * s), (x * s, 0.8 * s)], fill=_hex("#f2b134"), width=max(1, s // 90))


def _meat(d, s, rng):
    for i in range(3):
        y = (0.3 + i * 0.15) * s
        d.rounded_rectangle([0.24 * s, y, 0.76 * s, y + 0.12 * s], radius=0.02 * s,
                            fill=_hex("#8e2b1f"))
        d.rectangle([0.24 * s, y, 0.76 * s, y + 0.035 * s], fill=_hex("#f1dcc1"))
        d.rectangle([0.24 * s, y + 0.07 * s, 0.76 * s, y + 0.08 * s], fill=_hex("#e8c7a0"))


def _slices(color: str, rings: bool = True):
    def draw(d, s, rng):
        c = _hex(color)
        for _ in range(9):
            cx, cy = rng.uniform(0.22, 0.78) * s, rng.uniform(0.3, 0.72) * s
            r = rng.uniform(0.07, 0.11) * s
            d.ellipse([cx - r, cy - r * 0.8, cx + r, cy + r * 0.8], fill=c)
            if rings:
                d.ellipse([cx - r * 0.6, cy - r * 0.48, cx + r * 0.6, cy + r * 0.48],
                          outline=_shade(c, -0.25), width=max(1, s // 200))
    return draw


def _weave(d, s, rng, colors: list[RGB], box, step: float):
    x0, y0, x1, y1 = box
    k = 0
    y = y0
    while y < y1:
        x = x0
        j = k
        while x < x1:
            d.rectangle([x, y, min(x + step, x1), min(y + step, y1)],
                        fill=colors[j % len(colors)])
            x += step
            j += 1
        y += step
        k += 1


def _basket(d, s, rng):
    light, dark = _hex("#d9b77e"), _hex("#b08a4e")
    d.polygon([(0.2 * s, 0.42 * s), (0.8 * s, 0.42 * s), (0.7 * s, 0.78 * s), (0.3 * s, 0.78 * s)],
              fill=dark)
    _weave(d, s, rng, [light, dark], (0.27 * s, 0.46 * s, 0.73 * s, 0.74 * s), 0.04 * s)
    d.arc([0.28 * s, 0.16 * s, 0.72 * s, 0.68 * s], 180, 360, fill=dark, width=max(2, s // 45))
    d.rectangle([0.2 * s, 0.4 * s, 0.8 * s, 0.45 * s], fill=_shade(dark, -0.15))


def _diamonds(colors: list[str], bg: str):
    def draw(d, s, rng):
        d.rectangle([0.12 * s, 0.18 * s, 0.88 * s, 0.8 * s], fill=_hex(bg))
        step = 0.12 * s
        cols = [_hex(c) for c in colors]
        for row in range(6):
            for col in range(7):
                cx = 0.12 * s + (col + 0.5 * (row % 2)) * step
                cy = 0.22 * s + row * step * 0.55
                if cx > 0.86 * s:
                    continue
                r = step * 0.45
                d.polygon([(cx, cy - r * 0.55), (cx + r, cy), (cx, cy + r * 0.55), (cx - r, cy)],
                          fill=cols[(row + col) % len(cols)])
                d.polygon([(cx, cy - r * 0.2), (cx + r * 0.35, cy), (cx, cy + r * 0.2),
                           (cx - r * 0.35, cy)], fill=_hex(bg))
    return draw


MOTIFS: dict[str, Callable] = {
    "tea": _tea, "tea-tin": _tea_tin, "tea-red": _tea_red, "tea-brick": _tea_brick,
    **{name: _fruit(name) for name in FRUIT},
    "fruit": _fruit("orange"),
    "jujube": _ovals("#a3242c", n=16, size=0.065),
    "rice-grain": _grains("#f4efe0"), "rice": _grains("#f4efe0"),
    "red-rice": _grains("#9b2d30"), "buckwheat": _grains("#6b4f2e", stalk="#8aa04a"),
    "cake": _ovals("#c46a6a", n=6, size=0.12, ratio=0.55),
    "oil": _bottle("#c98b1c"), "oil-yellow": _bottle("#e3b523"),
    "dried": _mushroom("#7a4b2a"), "mushroom": _mushroom("#7a4b2a"),
    "mushroom-dark": _mushroom("#2f2621"),
    "shoot": _shoot, "noodles": _noodles,
    "beans": _ovals("#7d5a3a", n=24, size=0.04, ratio=0.45),
    "slices": _slices("#e5a64b", rings=False),
    "honey": _jar("#e0a01c"), "salt": _jar("#f6f6f2", mound=True),
    "powder": _jar("#efe9dc", mound=True),
    "poultry-eggs": _ovals("#f1d2a8", n=9, size=0.09, ratio=1.25),
    "eggs": _ovals("#f1d2a8", n=9, size=0.09, ratio=1.25),
    "duck-eggs": _ovals("#d9e7dc", n=8, size=0.095, ratio=1.25),
    "chicken": _chicken, "meat": _meat,
    "herbs": _slices("#c9a46b"), "root": _slices("#c9a46b"), "root-dark": _slices("#3a2a24"),
    "crafts": _basket, "basket": _basket,
    "brocade": _diamonds(["#2c3e73", "#b23a48", "#e0b040", "#2e7d5b"], "#f4ead6"),
    "embroidery": _diamonds(["#c0392b", "#f1c40f", "#1d1d1d"], "#2b2b2b"),
}


def _fit_text(draw: ImageDraw.ImageDraw, text: str, max_width: float, size: int):
    while size > 8:
        font = _font(size)
        if font is None:
            return None, 0
        width = draw.textlength(text, font=font)
        if width <= max_width:
            return font, width
        size = int(size * 0.9)
    return _font(size), 0


def render(name: str, category: str, *, art: str | None = None, caption: str = "",
           size: int = 640, seed: str = "", variant: int = 0) -> bytes:
    """A JPEG of `size` × `size` pixels. `variant` 1, 2, ... gives a different composition."""
    rng = random.Random(f"{seed}:{variant}")
    scale = 2 if size >= 200 else 1
    s = size * scale
    top, bottom = BACKGROUNDS.get(category, ("#f5f5f5", "#dddddd"))
    top_c, bottom_c = _hex(top), _hex(bottom)
    if variant % 2:
        top_c, bottom_c = _shade(bottom_c, 0.2), top_c
    img = _background(s, top_c, bottom_c)
    d = ImageDraw.Draw(img)
    # a soft sun / plate behind the motif
    halo = _shade(top_c, 0.5)
    d.ellipse([0.12 * s, 0.1 * s, 0.88 * s, 0.86 * s], fill=halo)
    motif = MOTIFS.get(art or category) or MOTIFS.get(category) or _tea
    motif(d, s, rng)
    if variant % 2:  # the second picture: a close-up of the same motif
        img = img.crop((int(0.14 * s), int(0.1 * s), int(0.86 * s), int(0.82 * s))).resize(
            (s, s), Image.Resampling.BILINEAR)
        d = ImageDraw.Draw(img)

    text = caption or name
    if text and font_path() is not None:
        band_top = int(0.82 * s)
        d.rectangle([0, band_top, s, s], fill=(255, 255, 255))
        d.rectangle([0, band_top, s, band_top + max(2, s // 160)], fill=_shade(bottom_c, -0.25))
        font, width = _fit_text(d, text, 0.9 * s, int(0.075 * s))
        if font is not None:
            d.text(((s - width) / 2, band_top + 0.09 * s), text, font=font, fill=(51, 51, 51),
                   anchor="lm")
    if scale > 1:
        img = img.reduce(scale)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()
