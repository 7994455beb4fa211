"""A real X screen for tests that must see what Chromium draws outside the page
(its notification popups): Xvfb on a free display, the whole screen as PNG, and a
mouse click anywhere on it.

Debian's `xvfb`, `x11-apps` (for `xwd`) and `xdotool` provide the tools; scripts/lib.sh
`ensure_xvfb` installs them. The XWD dump is turned into PNG here (numpy and zlib),
so no image library is needed.
"""

from __future__ import annotations

import os
import select
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

MISSING = [tool for tool in ("Xvfb", "xwd", "xdotool") if shutil.which(tool) is None]
WHY_MISSING = (
    f"needs {', '.join(MISSING)} for a real X screen (apt-get install xvfb x11-apps xdotool;"
    " scripts/lib.sh ensure_xvfb)"
)


@contextmanager
def xvfb(width: int, height: int) -> Iterator[str]:
    """Xvfb on a display it picks itself (-displayfd); yields ":<n>"."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 20)
        assert ready, "Xvfb did not start"
        number = os.read(read, 32).decode().strip()
        assert number.isdigit(), number
        yield f":{number}"
    finally:
        os.close(read)
        proc.terminate()
        proc.wait(timeout=10)


def capture(display: str) -> np.ndarray:
    """The whole screen as an (height, width, 3) uint8 RGB array (`xwd -root`)."""
    dump = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    ).stdout
    return _xwd_rgb(dump)


def click(display: str, x: int, y: int) -> None:
    """A left click at (x, y) on the screen, as a person's (XTEST, through xdotool)."""
    subprocess.run(
        ["xdotool", "mousemove", str(x), str(y), "click", "1"],
        env={**os.environ, "DISPLAY": display}, check=True,
    )  # fmt: skip


def _xwd_rgb(data: bytes) -> np.ndarray:
    # The XWD header: 25 big-endian 32-bit fields, then the window name, then
    # `ncolors` 12-byte colour entries, then the pixels (ZPixmap).
    f = struct.unpack(">25I", data[:100])
    header_size, fmt, width, height = f[0], f[2], f[4], f[5]
    byte_order, bits_per_pixel, bytes_per_line = f[7], f[11], f[12]
    masks, ncolors = (f[14], f[15], f[16]), f[19]
    assert fmt == 2 and bits_per_pixel == 32, (fmt, bits_per_pixel)  # Xvfb at depth 24
    start = header_size + ncolors * 12
    rows = np.frombuffer(data, np.uint8, bytes_per_line * height, start)
    pixels = rows.reshape(height, bytes_per_line)[:, : width * 4].copy()
    words = pixels.view("<u4" if byte_order == 0 else ">u4").reshape(height, width)
    out = []
    for mask in masks:
        shift = (mask & -mask).bit_length() - 1
        out.append(((words & mask) >> shift).astype(np.uint8))
    return np.dstack(out)


def png(rgb: np.ndarray) -> bytes:
    """An RGB array as a PNG file (8-bit truecolour, no filter)."""
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )  # fmt: skip
