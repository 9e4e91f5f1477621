"""The quality gate's suite files, read without Great Expectations.

Suites are JSON files `expectations/<layer>/<table>.json` (the format is described in
orchestration/lib/quality.py, which runs them). Reading them is kept apart from the module that
runs them so that loading the Dagster definitions, which builds one asset check per suite, does
not import Great Expectations (~3.5 CPU-s): the UI's code server, the sensor and schedule ticks
and a run that is skipped never need it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Where a raw row came from (orchestration.lib.loader.AUDIT_COLUMNS), shown with examples.
LINEAGE_COLUMNS = ("_source_file", "_row_number")


class SuiteFormatError(ValueError):
    """A suite file is not valid JSON or does not have the expected structure."""


@dataclass(frozen=True)
class SuiteSpec:
    """One suite file: the expectations for one table of one layer."""

    table: str
    layer: str
    description: str
    expectations: list[dict[str, Any]]
    path: Path
    requires: tuple[str, ...] = ()
    id_columns: tuple[str, ...] = ()

    def example_columns(self, available: Any) -> list[str]:
        """The columns naming an offending row: ids (declared, else the first unique-checked
        column) then the lineage columns, those present in `available`."""
        ids = list(self.id_columns)
        if not ids:
            ids = [
                entry["kwargs"]["column"]
                for entry in self.expectations
                if entry["type"] == "expect_column_values_to_be_unique"
                and "column" in entry.get("kwargs", {})
            ][:1]
        return [c for c in dict.fromkeys([*ids, *LINEAGE_COLUMNS]) if c in set(available)]

    @property
    def name(self) -> str:
        """The suite name used in GX and in reports: `<layer>.<table>`."""
        return f"{self.layer}.{self.table}"

    @property
    def key(self) -> str:
        """A file-name friendly identifier: `<layer>__<table>`."""
        return f"{self.layer}__{self.table}"


def load_suites(expectations_dir: Path, layer: str | None = None) -> list[SuiteSpec]:
    """Load the suite files `<expectations_dir>/<layer>/<table>.json`, sorted by layer and table.

    With `layer`, only that layer's folder is read. Raises `SuiteFormatError` for a malformed file.
    """
    expectations_dir = Path(expectations_dir)
    pattern = f"{layer}/*.json" if layer else "*/*.json"
    return [_load_suite(path) for path in sorted(expectations_dir.glob(pattern))]


def _load_suite(path: Path) -> SuiteSpec:
    """Parse and check one suite file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteFormatError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteFormatError(f"{path}: expected a JSON object")
    table = data.get("table") or path.stem
    layer = data.get("layer") or path.parent.name
    if table != path.stem or layer != path.parent.name:
        raise SuiteFormatError(
            f"{path}: table/layer {layer}.{table} do not match the file location "
            f"{path.parent.name}/{path.name}"
        )
    expectations = data.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteFormatError(f"{path}: 'expectations' must be a list")
    for i, entry in enumerate(expectations):
        _check_entry(path, i, entry)
    requires = data.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(t, str) for t in requires):
        raise SuiteFormatError(f"{path}: 'requires' must be a list of raw table names")
    id_columns = data.get("id_columns", [])
    if not isinstance(id_columns, list) or not all(isinstance(c, str) for c in id_columns):
        raise SuiteFormatError(f"{path}: 'id_columns' must be a list of column names")
    return SuiteSpec(
        table=table,
        layer=layer,
        description=str(data.get("description", "")),
        expectations=expectations,
        path=path,
        requires=tuple(requires),
        id_columns=tuple(id_columns),
    )


def _check_entry(path: Path, index: int, entry: Any) -> None:
    """Check the structure (not the GX validity) of one expectation entry."""
    where = f"{path}: expectations[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise SuiteFormatError(f"{where}: expected an object with a string 'type'")
    if not isinstance(entry.get("kwargs", {}), dict):
        raise SuiteFormatError(f"{where}: 'kwargs' must be an object")
    if not isinstance(entry.get("meta", {}), dict):
        raise SuiteFormatError(f"{where}: 'meta' must be an object")
