"""Render the HTML report of the vulnerable demo twin and screenshot it in headless Chromium.

Not a test (CI has no browser): run it by hand after changing the HTML reporter and look at the
picture. Needs Debian's ``chromium`` (``apt-get install -y chromium``).

    .venv/bin/python docs/screenshot_html_report.py   # writes docs/html-report.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from specdiff.config import Credentials, ScanConfig
from specdiff.demo.serve import serve_twin
from specdiff.engine import scan
from specdiff.reporters import Format, render

OUT = Path(__file__).with_name("html-report.png")


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium on PATH: apt-get install -y chromium", file=sys.stderr)
        return 2
    with serve_twin("vulnerable") as twin:
        report = scan(
            ScanConfig(
                spec=str(twin.spec_path),
                base_url=twin.https_url,
                http_url=twin.http_url,
                credentials=Credentials.build(token=twin.token),
                ca_bundle=str(twin.ca_pem),
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render(report, Format.HTML), encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp}/profile",
                f"--screenshot={OUT}",
                "--window-size=1280,1600",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {OUT} ({len(report.findings)} findings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
