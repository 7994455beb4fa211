"""Render the app's PNG icons and the share card from SVG/HTML with headless Chromium.

    .venv/bin/python web/render_images.py

Writes api/static/icons/icon-{192,512}.png, icon-maskable-512.png and
api/static/img/og-card.png (1200x630, the Open Graph image of shared vacancies).
Run it after changing api/static/icons/icon.svg; the PNGs are committed.
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "api" / "static"
CHROMIUM = "/usr/bin/chromium"

OG_CARD = """<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; width: 1200px; height: 630px; display: flex; align-items: center;
  gap: 60px; padding: 0 90px; box-sizing: border-box; background: #1d3f91; color: #fff;
  font-family: "DejaVu Sans", system-ui, sans-serif; }
img { width: 260px; height: 260px; }
h1 { font-size: 76px; margin: 0 0 24px; }
p { font-size: 38px; margin: 0; color: #ffd23f; }
</style></head><body><img src="data:image/svg+xml;base64,{svg}">
<div><h1>Job On the Run</h1><p>Job tæt på dig – lige nu</p>
<p style="color:#fff;font-size:30px;margin-top:18px">Jobs near you – right now · Aarhus</p>
</div></body></html>"""


def main() -> None:
    svg = (STATIC / "icons" / "icon.svg").read_bytes()
    svg_b64 = base64.b64encode(svg).decode()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        for size, name, pad in ((192, "icon-192.png", 0), (512, "icon-512.png", 0),
                                (512, "icon-maskable-512.png", 0.12)):  # fmt: skip
            page.set_viewport_size({"width": size, "height": size})
            inner = int(size * (1 - 2 * pad))
            page.set_content(
                f'<body style="margin:0;background:{"transparent" if pad == 0 else "#1d3f91"};'
                f"display:grid;place-items:center;"
                f'width:{size}px;height:{size}px"><img style="width:{inner}px;height:{inner}px" '
                f'src="data:image/svg+xml;base64,{svg_b64}"></body>'
            )
            page.screenshot(path=str(STATIC / "icons" / name), omit_background=pad == 0)
        page.set_viewport_size({"width": 1200, "height": 630})
        page.set_content(OG_CARD.replace("{svg}", svg_b64))
        page.screenshot(path=str(STATIC / "img" / "og-card.png"))
        browser.close()


if __name__ == "__main__":
    main()
