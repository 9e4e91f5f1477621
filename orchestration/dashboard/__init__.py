"""The dashboard (営業KPIダッシュボード): a static site generated from the published file.

`python -m orchestration.dashboard` (or `make dashboard`) writes the pages and serves them on
http://127.0.0.1:8050; `build_dashboard` writes them only.
"""

from orchestration.dashboard.data import PublishedFileMissing
from orchestration.dashboard.site import PAGES, build_dashboard

__all__ = ["PAGES", "PublishedFileMissing", "build_dashboard"]
