"""Headless Chromium from the OS packages (`apt-get install chromium`), driven by its flags.

No driver: `--dump-dom` prints the page after the React app rendered (within a virtual
time budget, which waits for pending requests), `--screenshot` saves a PNG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str | None:
    """The Chromium binary on PATH (or `$CHROMIUM`), if any."""
    candidates = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else list(NAMES)
    return next((path for name in candidates if (path := shutil.which(name))), None)


def _run(url: str, profile: Path, *flags: str, budget_ms: int, timeout: float) -> str:
    binary = chromium()
    assert binary is not None, "no Chromium binary"
    done = subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--window-size=1280,860",
            f"--virtual-time-budget={budget_ms}",
            *flags,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


def dump_dom(url: str, profile: Path, *, budget_ms: int = 15000, timeout: float = 90) -> str:
    """The page's DOM after its scripts ran, as HTML."""
    return _run(url, profile, "--dump-dom", budget_ms=budget_ms, timeout=timeout)


def screenshot(
    url: str, profile: Path, png: Path, *, budget_ms: int = 15000, timeout: float = 90
) -> None:
    """Save the rendered page as `png`."""
    _run(url, profile, f"--screenshot={png}", budget_ms=budget_ms, timeout=timeout)
