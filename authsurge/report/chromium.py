"""Headless Chromium, for PDFs of reports (and for checking them in tests), never online.

Every call runs a fresh profile in a temporary directory with background networking,
component updates and sync off, and every host name resolving to nothing, so rendering a
report cannot fetch anything even if the page asked to.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
OFFLINE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
TIMEOUT_S = 120


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary, or None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(
    args: list[str], *, binary: str | None = None, timeout: float = TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium offline with a throwaway profile; raise RuntimeError when it fails."""
    binary = binary or find_chromium()
    if binary is None:
        raise RuntimeError("no Chromium found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="authsurge-chromium-") as profile:
        cmd = [binary, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"chromium exited with {proc.returncode}: {tail}")
    return proc


def print_pdf(html: Path, pdf: Path, *, binary: str | None = None) -> Path:
    """Render a local HTML file to PDF (A4, no header/footer)."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(
        [
            "--no-pdf-header-footer",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={pdf.resolve()}",
            html.resolve().as_uri(),
        ],
        binary=binary,
    )
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no PDF at {pdf}")
    return pdf
