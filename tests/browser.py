"""Playwright helpers for the browser tests: Debian's Chromium, phone and desktop
contexts with the network closed to everything but our server, screenshots on
demand, and small accessibility checks that run in the page.

Chromium comes from the distribution (`/usr/bin/chromium`, installed by
scripts/test through `ensure_chromium`); Playwright's own browser download is
never used.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, ViewportSize

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("JOTR_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}

# Records what the page asks the browser to notify, without depending on how a
# headless browser shows notifications.
NOTIFICATION_SPY = """
window.__notifications = [];
(() => {
  const record = (title, options) =>
    window.__notifications.push({title, body: options && options.body});
  if (window.ServiceWorkerRegistration) {
    ServiceWorkerRegistration.prototype.showNotification = async function (title, options) {
      record(title, options);
    };
  }
  const Real = window.Notification;
  if (Real) {
    const Spy = function (title, options) { record(title, options); };
    Object.defineProperty(Spy, "permission", { get: () => Real.permission });
    Spy.requestPermission = (...a) => Real.requestPermission(...a);
    window.Notification = Spy;
  }
})();
"""


async def launch(pw: Playwright) -> Browser:
    return await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)


async def new_context(
    browser: Browser,
    base_url: str,
    *,
    viewport: ViewportSize = PHONE,
    geolocation: tuple[float, float] | None = None,
    locale: str = "da-DK",
) -> BrowserContext:
    """A fresh context (own storage) that may reach only our server: every other
    request (map tiles included) fails, which is the "tiles cannot be fetched"
    case the map must survive."""
    context = await browser.new_context(
        base_url=base_url,
        viewport=viewport,
        locale=locale,
        timezone_id="Europe/Copenhagen",
        geolocation=(
            {"latitude": geolocation[0], "longitude": geolocation[1], "accuracy": 10}
            if geolocation
            else None
        ),
        permissions=["geolocation", "notifications"] if geolocation else ["notifications"],
        is_mobile=viewport["width"] < 600,
        has_touch=viewport["width"] < 600,
    )
    own = re.compile("^" + re.escape(base_url.rstrip("/")) + "(/|$)")

    async def abort_foreign(route: Any) -> None:
        await route.abort("internetdisconnected")

    await context.route(
        lambda url: not own.match(url) and not url.startswith("data:"), abort_foreign
    )
    await context.add_init_script(NOTIFICATION_SPY)
    context.set_default_timeout(10_000)
    return context


def watch_errors(page: Page) -> list[str]:
    """JavaScript errors on the page (uncaught, or console.error)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))

    def on_console(msg: Any) -> None:
        # Failed resource loads (tiles, offline) are expected; script errors are not.
        expected = ("net::ERR_INTERNET_DISCONNECTED", "Failed to load resource")
        if msg.type == "error" and not any(e in msg.text for e in expected):
            errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    return errors


async def screenshot(page: Page, name: str, full_page: bool = False) -> None:
    """docs/screenshots/<name>.png, only when JOTR_SCREENSHOTS=1 (so test runs
    do not change the working tree)."""
    if os.environ.get("JOTR_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


async def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0 = no sideways scroll)."""
    return int(
        await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


# In-page checks: every visible control has an accessible name, every image a
# text alternative (or is marked decorative), and visible text reaches 4.5:1
# against its background (3:1 for large text), WCAG 2.1's formula.
A11Y_AUDIT = r"""
() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"
      && !el.closest("[hidden],[aria-hidden='true']");
  };
  const nameOf = (el) => {
    if (el.getAttribute("aria-label")) return el.getAttribute("aria-label");
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || "").join(" ");
    }
    if (el.id) {
      const l = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (l && l.textContent.trim()) return l.textContent;
    }
    const wrap = el.closest("label");
    if (wrap && wrap.textContent.trim()) return wrap.textContent;
    if (el.tagName === "INPUT" && ["submit", "button"].includes(el.type)) return el.value;
    if (el.tagName === "IMG") return el.getAttribute("alt");
    return el.textContent || el.getAttribute("title") || "";
  };
  const where = (el) => {
    const cls = typeof el.className === "string" && el.className ? el.className : "";
    const id = el.id ? "#" + el.id : "";
    return el.tagName.toLowerCase() + id + (cls ? "." + cls.replace(/ /g, ".") : "");
  };
  const controls = "a[href], button, input, select, textarea, [role=button],"
    + " [tabindex]:not([tabindex='-1'])";
  for (const el of document.querySelectorAll(controls)) {
    if (!visible(el) || el.type === "hidden") continue;
    if (!(nameOf(el) || "").trim()) problems.push("no accessible name: " + where(el));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt") && !img.closest(".leaflet-tile-pane")) {
      problems.push("img without alt: " + img.src);
    }
  }
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none" && e.classList.contains("leaflet-container")) return null;
      const c = parse(s.backgroundColor);
      if (c && c.a >= 0.9) return c;
      if (c && c.a > 0) return null; // translucent layers: not judged here
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim() || !visible(el)) continue;
    const skip = ".leaflet-control-attribution, .visually-hidden, svg, .leaflet-marker-pane";
    if (el.closest(skip)) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    const bg = background(el);
    if (!fg || !bg || parseFloat(s.opacity) < 1) continue;
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      const text = node.textContent.trim().slice(0, 40);
      problems.push(`contrast ${ratio.toFixed(2)}: "${text}" in ${where(el)}`);
    }
  }
  return problems;
}
"""


async def accessibility_problems(page: Page) -> list[str]:
    return list(await page.evaluate(A11Y_AUDIT))
