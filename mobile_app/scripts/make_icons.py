"""Draw the field app's icons as PNG files in `public/icons/` with the standard library only.

A white "V" (Velox) on the app's teal, in the sizes installers ask for: 192 and 512 px with
rounded corners, and a 512 px maskable icon (full-bleed background, the mark inside the 80 %
safe zone that launchers may crop to a circle). Run from `mobile_app/`:
`python3 scripts/make_icons.py`. The PNGs are committed; run this again only to change them.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "public" / "icons"
TEAL = (15, 118, 110)
WHITE = (255, 255, 255)
SAMPLES = 4  # per axis: 16 samples per pixel smooth the edges


def _png(path: Path, size: int, rgba: bytearray) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes(rgba[y * size * 4 : (y + 1) * size * 4]) for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _inside_rounded_square(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _inside_v(x: float, y: float, scale: float) -> bool:
    """A bold V centred in the unit square, `scale` of its size."""
    u = (x - 0.5) / scale + 0.5
    v = (y - 0.5) / scale + 0.5
    if not 0.18 <= v <= 0.82:
        return False
    depth = (v - 0.18) / 0.64  # 0 at the top, 1 at the point
    half_gap = 0.5 * (1 - depth) * 0.62  # the arms meet at the bottom
    stroke = 0.16
    left_edge = 0.5 - half_gap - stroke
    right_edge = 0.5 + half_gap + stroke
    inner = half_gap - stroke * 0.35
    return left_edge <= u <= right_edge and not (abs(u - 0.5) < inner and depth < 0.92)


def draw(size: int, *, maskable: bool) -> bytearray:
    rgba = bytearray(size * size * 4)
    radius = 0.0 if maskable else 0.22
    scale = 0.62 if maskable else 0.8
    for py in range(size):
        for px in range(size):
            background = mark = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) / size
                    y = (py + (sy + 0.5) / SAMPLES) / size
                    if maskable or _inside_rounded_square(x, y, radius):
                        background += 1
                        if _inside_v(x, y, scale):
                            mark += 1
            total = SAMPLES * SAMPLES
            offset = (py * size + px) * 4
            if background == 0:
                continue
            share = mark / background
            for channel in range(3):
                rgba[offset + channel] = round(
                    TEAL[channel] * (1 - share) + WHITE[channel] * share
                )
            rgba[offset + 3] = round(255 * background / total)
    return rgba


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("maskable-512.png", 512, True),
        ("apple-touch-icon-180.png", 180, True),
    ):
        _png(OUT / name, size, draw(size, maskable=maskable))
        print(OUT / name)


if __name__ == "__main__":
    main()
