"""Dagster resources, configured from environment variables with working defaults."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.lib.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where the pipeline reads and writes; empty fields fall back to lib.settings (env vars)."""

    landing_dir: str = ""
    working_db: str = ""
    published_db: str = ""
    quality_dir: str = ""
    as_of_date: str = ""

    def settings(self) -> Settings:
        settings = Settings.from_env()
        paths = {
            name: Path(value).resolve()
            for name, value in {
                "landing_dir": self.landing_dir,
                "working_db": self.working_db,
                "published_db": self.published_db,
                "quality_dir": self.quality_dir,
            }.items()
            if value
        }
        if self.as_of_date:
            paths["as_of_date"] = date.fromisoformat(self.as_of_date)
        return dataclasses.replace(settings, **paths)
