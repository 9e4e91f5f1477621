"""Headless Chromium for tests that look at a page as a person would (dashboard, Data Docs).

Pages are rendered offline: every host name except localhost resolves to nothing, so a page
that needs a CDN shows it. `make test` installs Chromium from the Debian packages when it is
missing (`make browser`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "chromium-headless-shell", "google-chrome")
# No DNS for any host but this machine: a page that loads CSS/JS from the internet fails.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"


def chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(
        "No headless Chromium on this machine: run `make browser` (installs the Debian package "
        "chromium) or `make test`, which does it for you."
    )


def _run(url: str, *flags: str, budget_ms: int = 10000, timeout: float = 120) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            OFFLINE,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            *flags,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed on {url} ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def rendered_dom(url: str, budget_ms: int = 10000) -> str:
    """The page's DOM after its scripts ran (offline), as HTML text."""
    return _run(url, "--dump-dom", budget_ms=budget_ms)


def screenshot(url: str, target: Path, width: int = 1400, height: int = 1800) -> Path:
    """A PNG of the page (offline) at `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(url, f"--screenshot={target}", f"--window-size={width},{height}")
    return target
