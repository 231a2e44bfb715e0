"""Headless Debian chromium for tests: the rendered DOM of a page, and a screenshot of it."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--virtual-time-budget=5000", "--allow-file-access-from-files")


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="ticklake-chromium-") as profile:
        return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120, check=True)


def rendered_dom(chromium: str, url: str) -> str:
    """The page's DOM after its scripts ran."""
    return _run(chromium, "--dump-dom", url).stdout


def screenshot(chromium: str, url: str, png: Path, size: str = "1400,1600") -> Path:
    _run(chromium, f"--screenshot={png}", f"--window-size={size}", url)
    return png


def distinct_colours(png: Path) -> int:
    """How many different colours the image has (a blank page has one or two)."""
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(str(png))
    flat = (img[..., :3].reshape(-1, 3) * 255).astype(np.uint8)
    return len(np.unique(flat, axis=0))
