"""Declarative mapping engine: convert any export folder to canonical rows with a YAML file.

A source folder holds the exports and a `source.yml`::

    type: mapping
    mapping: jp_sfa_example      # a YAML path relative to the folder, or a shipped example
    source_system: jp_sfa        # optional, see "Id namespace" below

`mapping` is looked up as a file in the folder (with or without `.yml`/`.yaml`), then as a
shipped example in `orchestration/sources/mappings/`. The mapping YAML (full reference with
examples: docs/mapping_format.md)::

    description: free text           # optional, ignored
    source_system: jp_sfa            # optional id namespace
    encoding: cp932                  # optional; default: detected per file
    files:
      - pattern: "商談一覧*.csv"      # fnmatch on the path relative to the folder (NFC)
        entity: opportunities        # canonical entity (orchestration/lib/canonical_schema.py)
        sheet: 商談                   # xlsx only; default: the first sheet
        header_row: 1                # optional: row of the labels (rows above are skipped)
        encoding: utf-8              # optional: overrides the top-level encoding
        columns:                     # canonical column -> source label, or a spec
          opportunity_id: 商談ID
          created_at: {column: 作成日時, format: "%Y/%m/%d %H:%M"}   # format: str or list
          currency: {value: JPY}                                    # constant
          opportunity_stage: {column: フェーズ, map: stage}          # value map by name
          converted_opportunity_id: {column: SF商談ID, source: salesforce}
          activity_at: {column: [日付, 時刻], sep: " "}              # labels joined (default "-")
          lead_source: {column: 流入元, map: source, default: unknown}  # default: empty cells
          sdr_id:                                                   # from another file by key
            {lookup: {pattern: "リード*.csv", key: リードID, value: 担当者ID}, column: リードID}
        ids: [opportunity_id, account_id]   # optional; default: mapped columns ending in _id
        filter:                             # optional: other rows become Rejects
          - {column: 削除, not_in: ["1", "true"]}     # also `in: [...]`, `not_empty: true`
        deduplicate: {key: [商談ID], keep: last}     # optional: duplicates become Rejects
      - pattern: "商談一覧*.csv"      # a derive entry: one row per distinct value of a column
        entity: users
        derive:
          key: user_id
          from:
            - {column: アポインターID, set: {role: SDR}}
            - {column: クローザーID, set: {role: AE}}
        columns: {team_id: {value: sales}}   # constants only
    value_maps:
      stage: {アプローチ: approach, 受注: closed_won, 失注: closed_lost}
      won_flag: {受注: "true", "*": "false"}    # "*": any other non-empty value
      lost_reason: {"": null, "-": null}       # "" matches empty cells; null maps to empty
    lead_sources:                               # lead sources beyond the seed, with channels
      paid_search: {channel: inbound_marketing, name_ja: リスティング広告, channel_name_ja: 広告}

Semantics:

- Validation of the YAML itself (`load_mapping`) names the YAML file and key
  (`files[0].columns.amount.map`): unknown keys, entities, canonical columns or value maps;
  a required canonical column left unmapped (with a snippet to add); constants, defaults,
  derive `set:` values and value-map outputs that are not valid for the column (e.g. a stage
  missing from seeds/stage_map.csv). Declared `lead_sources:` (and their channels) are valid
  `leads.lead_source` (`spend.channel`) values beside the seed's, and are written as the
  canonical entity `lead_sources` (`_source_file` = the mapping file).
- Per file, a mapped, filter, deduplicate or lookup label missing from its file, a lookup
  pattern matching no file, a value absent from its value map (and no `"*"`), or a value
  outside a closed set (allowed values, booleans, canonical stages, lead sources, channels)
  used without a value map is a *mapping error*: all of them are collected and raised
  together as one `MappingError` naming the file, the column, every distinct value with its
  row count (empty cells too, as `(empty)`, with how to give them a value) and the YAML to add.
- Row order of an entry: `filter:` conditions, then `deduplicate:` (first/last by file order;
  rows with an all-empty key are kept), then the columns. Rows taken out by either become
  `Reject`s naming the condition or the kept row, never silent drops.
- A value that cannot be parsed (a bad date or number) or an empty required value is *data*:
  the row becomes one `Reject` (first problem's column and value, all problems in the reason)
  and produces no canonical row; empty required values are also logged as a warning with
  their count per column. Per file entry, rows_read = rows_used + rows_rejected.
- `default:` is the canonical value of empty cells (after a lookup: of keys without a match);
  it is not passed through the value map and wins over the map's `""` entry.
- Lookups read the other files as the entry matching them does (encoding, sheet, header row)
  and match keys exactly; the first non-empty value by file order and row wins, and keys with
  several different values are counted in a warning. The looked-up text then goes through
  `map`/`format`/`source`/`default` like a direct column.
- Derive entries make one row per distinct non-empty value of each `from` column (over all
  the entry's files; a value in two columns gives two rows, e.g. one user with roles SDR and
  AE), `_source_row` = its first row. They reject nothing: rows_used = rows_read (rows with no
  value, filtered out or unreadable contribute nothing); the file's own entity entry accounts
  for bad rows.
- Labels match exactly, else after NFKC + case folding + removing spaces (`金額（円）` =
  `金額(円)`). Value-map keys match the stripped value exactly, else the same way.
- Id namespace: `source.yml`'s `source_system`, else the mapping's `source_system`, else the
  `source_system` argument of `convert` (the caller's default, e.g. the folder name). Id
  columns are namespaced with `namespaced()`; a column with `source:` is an id of that source.
- Blank rows are not rows (see readers.py): they are neither read nor rejected.
- `_source_file` is the export's path; for a workbook it is `<path>#<sheet>`.
- Files in the folder matched by no pattern (other than source.yml and the mapping itself)
  are logged as warnings and ignored; a pattern matching no file is logged too.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
import logging
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

from orchestration.lib.canonical_schema import ENTITIES, Column, Entity
from orchestration.lib.input_files import check_relative, load_yaml, refuse_outside
from orchestration.sources.base import (
    NULL_IDS,
    Conversion,
    FileAccount,
    MappingError,
    Reject,
    namespaced,
)
from orchestration.sources.readers import (
    DISTINCT_SAMPLE,
    EXCEL_SUFFIXES,
    READ_ERROR,
    SOURCE_ROW,
    Parsed,
    parse_boolean_series,
    parse_date_series,
    parse_integer_series,
    parse_month_series,
    parse_number_series,
    parse_timestamp_series,
    read_table,
)

log = logging.getLogger(__name__)

SHIPPED_MAPPINGS = Path(__file__).parent / "mappings"
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
CONFIG_NAMES = frozenset({"source.yml", "source.yaml"})
TOP_KEYS = ("source_system", "encoding", "files", "value_maps", "lead_sources", "description")
FILE_KEYS = (
    "pattern",
    "entity",
    "sheet",
    "header_row",
    "encoding",
    "columns",
    "ids",
    "derive",
    "filter",
    "deduplicate",
)
SPEC_KEYS = ("column", "value", "format", "map", "source", "sep", "lookup", "default")
LOOKUP_KEYS = ("pattern", "key", "value")
DERIVE_KEYS = ("key", "from")
DERIVE_FROM_KEYS = ("column", "set")
FILTER_OPS = ("in", "not_in", "not_empty")
DEDUP_KEYS = ("key", "keep")
LEAD_SOURCE_KEYS = ("channel", "name_ja", "channel_name_ja")
LEAD_SOURCES = "lead_sources"
DATE_TYPES = ("date", "timestamp", "month")
DEFAULT_KEY = "*"
TODO = "TODO"

# ---------------------------------------------------------------------------------------------
# The mapping, validated
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """`lookup:` of a column spec: take `value` from the row of the other file whose `key` matches."""

    pattern: str
    key: str
    value: str


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical column is filled: from source labels, a lookup or a constant."""

    target: str
    labels: tuple[str, ...] = ()
    value: str | None = None
    formats: tuple[str, ...] = ()
    value_map: str | None = None
    source: str | None = None
    sep: str = "-"
    where: str = ""
    lookup: Lookup | None = None
    default: str | None = None  # canonical value for empty cells (and lookups without a match)

    @property
    def label_text(self) -> str:
        if not self.labels:
            return f"constant {self.value!r}"
        joined = " + ".join(self.labels)
        if self.lookup is None:
            return joined
        return f"{self.lookup.value} of {self.lookup.pattern} looked up by {joined}"


@dataclass(frozen=True)
class RowFilter:
    """One `filter:` condition: keep the rows whose `label` value passes it."""

    label: str
    op: str  # in | not_in | not_empty
    values: tuple[str, ...] = ()
    where: str = ""

    def keeps(self, text: pd.Series) -> pd.Series:
        """True where the row passes; values match exactly, else after the label folding."""
        if self.op == "not_empty":
            return text.notna() if self.values == ("true",) else text.isna()
        listed = [v for v in self.values if v]
        hit = text.isin(listed) | _fold(text).isin({_fold_text(v) for v in listed})
        if "" in self.values:
            hit = hit | text.isna()
        return hit if self.op == "in" else ~hit

    def reason(self, value: object) -> str:
        shown = "(empty)" if value is None else repr(value)
        listed = ", ".join(v or "(empty)" for v in self.values)
        if self.op == "not_empty":
            what = "is empty" if self.values == ("true",) else f"= {shown} is not empty"
            return f"filtered out by {self.where}: {self.label} {what}"
        word = "not in" if self.op == "in" else "in not_in"
        return f"filtered out by {self.where}: {self.label} = {shown} {word} [{listed}]"


@dataclass(frozen=True)
class Deduplicate:
    """`deduplicate:`: one row per key (labels), the first or the last by file order."""

    labels: tuple[str, ...]
    keep: str  # first | last
    where: str = ""


@dataclass(frozen=True)
class DeriveFrom:
    """One `derive.from` item: a source column and the constants its rows get."""

    label: str
    values: tuple[tuple[str, str], ...]  # (canonical column, value) from `set:`
    where: str = ""


@dataclass(frozen=True)
class Derive:
    """`derive:`: one row per distinct non-empty value of each listed column, into `key`."""

    key: str
    sources: tuple[DeriveFrom, ...]


@dataclass(frozen=True)
class FileSpec:
    """One `files:` entry: which files, which entity, which columns (or what to derive)."""

    pattern: str
    entity: str
    columns: tuple[ColumnSpec, ...]
    ids: frozenset[str]
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None
    where: str = ""
    derive: Derive | None = None
    filters: tuple[RowFilter, ...] = ()
    deduplicate: Deduplicate | None = None


@dataclass(frozen=True)
class LeadSource:
    """A `lead_sources:` entry: a lead source valid in this mapping, and its channel."""

    lead_source: str
    channel: str
    name_ja: str | None = None
    channel_name_ja: str | None = None


@dataclass(frozen=True)
class ValueMap:
    """Source value -> canonical value (None = empty); `default` for `"*"`."""

    name: str
    entries: dict[str, str | None] = field(hash=False)
    default: str | None = None
    has_default: bool = False


@dataclass(frozen=True)
class Mapping:
    path: Path
    files: tuple[FileSpec, ...]
    value_maps: dict[str, ValueMap] = field(hash=False)
    source_system: str | None = None
    encoding: str | None = None
    lead_sources: tuple[LeadSource, ...] = ()

    @property
    def extra_values(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Closed-set values this mapping adds to the seeds' (declared lead sources, channels)."""
        return _declared_values(self.lead_sources)


def _declared_values(sources: Sequence[LeadSource]) -> dict[tuple[str, str], tuple[str, ...]]:
    names = tuple(s.lead_source for s in sources)
    channels = tuple(dict.fromkeys(s.channel for s in sources))
    return {("leads", "lead_source"): names, ("spend", "channel"): channels} if sources else {}


def _fail(path: Path, where: str, message: str) -> MappingError:
    return MappingError(f"{path}: {where}: {message}")


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def _text(value: Any) -> str | None:
    """A YAML scalar as text: booleans `true`/`false`, dates ISO, null -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _check_keys(path: Path, where: str, data: dict, allowed: Sequence[str]) -> None:
    for key in data:
        if key not in allowed:
            raise _fail(
                path,
                where,
                f"unknown key {key!r}.{_suggest(str(key), allowed)} "
                f"Allowed keys: {', '.join(allowed)}.",
            )


def _parse_value_map(path: Path, name: str, raw: Any) -> ValueMap:
    where = f"value_maps.{name}"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping of source value -> canonical value.")
    entries: dict[str, str | None] = {}
    for key, value in raw.items():
        if isinstance(value, dict | list):
            raise _fail(path, f"{where}.{key}", "the canonical value must be a single value.")
        entries["" if key is None else _text(key) or ""] = _text(value)
    has_default = DEFAULT_KEY in entries
    default = entries.pop(DEFAULT_KEY, None)
    return ValueMap(name=name, entries=entries, default=default, has_default=has_default)


def _as_labels(path: Path, where: str, raw: Any) -> tuple[str, ...]:
    labels = raw if isinstance(raw, list) else [raw]
    texts = tuple(_text(label) for label in labels)
    if not texts or any(not label for label in texts):
        raise _fail(path, where, "a source column label (or a list of labels) is required.")
    return texts  # type: ignore[return-value]


def _as_formats(path: Path, where: str, raw: Any, column: Column) -> tuple[str, ...]:
    if raw is None:
        return ()
    if column.type not in DATE_TYPES:
        raise _fail(path, where, f"`format` applies to dates only; {column.name} is {column.type}.")
    formats = tuple(str(f) for f in (raw if isinstance(raw, list) else [raw]))
    if not formats or any("%" not in f for f in formats):
        raise _fail(path, where, 'a strptime format such as "%Y/%m/%d %H:%M" is expected.')
    return formats


def _parse_spec(path: Path, where: str, column: Column, raw: Any, maps: dict) -> ColumnSpec:
    if not isinstance(raw, dict):
        return ColumnSpec(target=column.name, labels=_as_labels(path, where, raw), where=where)
    _check_keys(path, where, raw, SPEC_KEYS)
    if ("column" in raw) == ("value" in raw):
        raise _fail(path, where, "give exactly one of `column` (a source label) or `value`.")
    map_name = _text(raw.get("map"))
    if map_name is not None and map_name not in maps:
        hint = _suggest(map_name, maps)
        raise _fail(path, f"{where}.map", f"no value map {map_name!r} in value_maps.{hint}")
    if map_name is not None and "value" in raw:
        raise _fail(path, where, "a constant `value` cannot use a `map`.")
    if "value" in raw and ("lookup" in raw or "default" in raw):
        raise _fail(path, where, "a constant `value` cannot have a `lookup` or a `default`.")
    default = _text(raw.get("default"))
    if "default" in raw and not default:
        raise _fail(path, f"{where}.default", "give the canonical value for empty cells.")
    return ColumnSpec(
        target=column.name,
        labels=_as_labels(path, f"{where}.column", raw["column"]) if "column" in raw else (),
        value=_text(raw.get("value")),
        formats=_as_formats(path, f"{where}.format", raw.get("format"), column),
        value_map=map_name,
        source=_text(raw.get("source")),
        sep=str(raw.get("sep", "-")),
        where=where,
        lookup=_parse_lookup(path, f"{where}.lookup", raw["lookup"]) if "lookup" in raw else None,
        default=default,
    )


def _parse_lookup(path: Path, where: str, raw: Any) -> Lookup:
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be {pattern: <other files>, key: <label>, value: <label>}.")
    _check_keys(path, where, raw, LOOKUP_KEYS)
    texts = {key: _text(raw.get(key)) for key in LOOKUP_KEYS}
    for key, text in texts.items():
        if not text:
            raise _fail(path, f"{where}.{key}", "is required (a file pattern or a column label).")
    check_relative(texts["pattern"], f"{path}: {where}.pattern", MappingError)  # type: ignore[arg-type]
    return Lookup(pattern=texts["pattern"], key=texts["key"], value=texts["value"])  # type: ignore[arg-type]


def _parse_filter(path: Path, where: str, raw: Any) -> tuple[RowFilter, ...]:
    if not isinstance(raw, list):
        raise _fail(
            path, where, "must be a list of conditions, e.g. [{column: status, in: [won]}]."
        )
    filters = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, dict) or "column" not in item:
            raise _fail(path, at, "must be {column: <label>, in | not_in | not_empty: ...}.")
        _check_keys(path, at, item, ("column", *FILTER_OPS))
        ops = [op for op in FILTER_OPS if op in item]
        if len(ops) != 1:
            raise _fail(path, at, f"give exactly one of {', '.join(FILTER_OPS)}.")
        op, operand = ops[0], item[ops[0]]
        label = _as_labels(path, f"{at}.column", item["column"])
        if len(label) != 1:
            raise _fail(path, f"{at}.column", "a filter tests one column label.")
        if op == "not_empty":
            if not isinstance(operand, bool):
                raise _fail(path, f"{at}.not_empty", "must be true (or false: keep empty only).")
            values = ("true",) if operand else ("false",)
        else:
            items = operand if isinstance(operand, list) else [operand]
            if not items or any(isinstance(v, dict | list) for v in items):
                raise _fail(path, f"{at}.{op}", "must be a list of values, e.g. [won, lost].")
            values = tuple(_text(v) or "" for v in items)
        filters.append(RowFilter(label=label[0], op=op, values=values, where=at))
    return tuple(filters)


def _parse_deduplicate(path: Path, where: str, raw: Any) -> Deduplicate:
    if not isinstance(raw, dict) or "key" not in raw:
        raise _fail(path, where, "must be {key: [<labels>], keep: first | last}.")
    _check_keys(path, where, raw, DEDUP_KEYS)
    keep = str(raw.get("keep", "first"))
    if keep not in ("first", "last"):
        raise _fail(path, f"{where}.keep", f"must be first or last, not {keep!r}.")
    return Deduplicate(labels=_as_labels(path, f"{where}.key", raw["key"]), keep=keep, where=where)


def _snippet(data: dict) -> str:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def _check_required(path: Path, where: str, pattern: str, entity: Entity, mapped: set) -> None:
    missing = [name for name in entity.required_columns if name not in mapped]
    if missing:
        snippet = _snippet({"columns": {name: {"column": TODO} for name in missing}})
        raise _fail(
            path,
            where,
            f"files matching {pattern!r} (entity {entity.name}) do not map the required "
            f"canonical column(s) {', '.join(missing)}. Add them under `columns:`, with the "
            f"label of the file's column or a constant (`{{value: ...}}`), e.g.:\n{snippet}",
        )


def _parse_ids(path: Path, where: str, raw: Any, entity: Entity, specs: Sequence) -> frozenset:
    if raw is None:
        ids = {s.target for s in specs if s.target.endswith("_id")}
    else:
        if not isinstance(raw, list):
            raise _fail(path, where, "a list of canonical column names is expected.")
        for name in raw:
            if name not in entity.column_names:
                hint = _suggest(str(name), entity.column_names)
                raise _fail(path, where, f"{name!r} is not a column of {entity.name}.{hint}")
        ids = set(raw)
    return frozenset(ids | {s.target for s in specs if s.source})


def _parse_columns(path: Path, where: str, raw: Any, entity: Entity, maps: dict) -> list:
    if not isinstance(raw, dict):
        raise _fail(path, f"{where}.columns", "must map canonical columns to source labels.")
    specs = []
    for name, spec in raw.items():
        if name not in entity.column_names:
            hint = _suggest(str(name), entity.column_names)
            raise _fail(path, f"{where}.columns.{name}", f"not a column of {entity.name}.{hint}")
        specs.append(_parse_spec(path, f"{where}.columns.{name}", entity.column(name), spec, maps))
    return specs


def _parse_derive(
    path: Path, where: str, raw: Any, entity: Entity, constants: Sequence[ColumnSpec]
) -> Derive:
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be {key: <canonical column>, from: [{column: <label>}]}.")
    _check_keys(path, where, raw, DERIVE_KEYS)
    key = _text(raw.get("key"))
    if key not in entity.column_names:
        hint = _suggest(str(key), entity.column_names)
        raise _fail(path, f"{where}.key", f"{key!r} is not a column of {entity.name}.{hint}")
    items = raw.get("from")
    if not isinstance(items, list) or not items:
        raise _fail(path, f"{where}.from", "a list of {column: <label>, set: {...}} is required.")
    sources = []
    for index, item in enumerate(items):
        at = f"{where}.from[{index}]"
        if not isinstance(item, dict) or "column" not in item:
            raise _fail(path, at, "must be {column: <label>, set: {<canonical column>: value}}.")
        _check_keys(path, at, item, DERIVE_FROM_KEYS)
        label = _as_labels(path, f"{at}.column", item["column"])
        if len(label) != 1:
            raise _fail(path, f"{at}.column", "one column label per item.")
        values = item.get("set") or {}
        if not isinstance(values, dict):
            raise _fail(path, f"{at}.set", "must map canonical columns to constants.")
        for name, value in values.items():
            if name not in entity.column_names or name == key:
                hint = _suggest(str(name), entity.column_names)
                raise _fail(path, f"{at}.set.{name}", f"not a column of {entity.name}.{hint}")
            if isinstance(value, dict | list) or _text(value) is None:
                raise _fail(path, f"{at}.set.{name}", "must be a single constant value.")
        sources.append(
            DeriveFrom(label[0], tuple((str(n), _text(v)) for n, v in values.items()), at)  # type: ignore[misc]
        )
        covered = {key, *(n for n, _ in sources[-1].values), *(c.target for c in constants)}
        _check_required(path, at, str(item["column"]), entity, covered)
    return Derive(key=key, sources=tuple(sources))  # type: ignore[arg-type]


def _parse_file(path: Path, index: int, raw: Any, maps: dict) -> FileSpec:
    where = f"files[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping with pattern, entity and columns.")
    _check_keys(path, where, raw, FILE_KEYS)
    for key in ("pattern", "entity", *(() if "derive" in raw else ("columns",))):
        if key not in raw:
            raise _fail(path, where, f"`{key}` is required.")
    check_relative(str(raw["pattern"]), f"{path}: {where}.pattern", MappingError)
    entity_name = str(raw["entity"])
    if entity_name not in ENTITIES:
        hint = _suggest(entity_name, ENTITIES)
        raise _fail(path, f"{where}.entity", f"unknown entity {entity_name!r}.{hint}")
    entity = ENTITIES[entity_name]
    specs = _parse_columns(path, where, raw.get("columns") or {}, entity, maps)
    derive = None
    if "derive" in raw:
        for spec in specs:
            if spec.value is None:
                raise _fail(
                    path,
                    spec.where,
                    "a derive entry takes only constants (`{value: ...}`) under `columns:`; "
                    "per-column values go under `set:` of derive.from.",
                )
        if "deduplicate" in raw:
            raise _fail(
                path, f"{where}.deduplicate", "derive rows are distinct already; remove it."
            )
        derive = _parse_derive(path, f"{where}.derive", raw["derive"], entity, specs)
    else:
        _check_required(path, where, str(raw["pattern"]), entity, {s.target for s in specs})
    header_row = raw.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        raise _fail(path, f"{where}.header_row", "must be a row number (1 or more).")
    ids = _parse_ids(path, f"{where}.ids", raw.get("ids"), entity, specs)
    if derive is not None and raw.get("ids") is None and derive.key.endswith("_id"):
        ids |= {derive.key}
    return FileSpec(
        pattern=str(raw["pattern"]),
        entity=entity_name,
        columns=tuple(specs),
        ids=ids,
        sheet=_text(raw.get("sheet")),
        header_row=header_row,
        encoding=_text(raw.get("encoding")),
        where=where,
        derive=derive,
        filters=_parse_filter(path, f"{where}.filter", raw["filter"]) if "filter" in raw else (),
        deduplicate=(
            _parse_deduplicate(path, f"{where}.deduplicate", raw["deduplicate"])
            if "deduplicate" in raw
            else None
        ),
    )


def _parse_lead_sources(path: Path, raw: Any) -> tuple[LeadSource, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(path, LEAD_SOURCES, "must map lead sources to {channel: <channel>}.")
    sources = []
    for name, entry in raw.items():
        where = f"{LEAD_SOURCES}.{name}"
        if not _text(name):
            raise _fail(path, where, "a lead source name is required.")
        if not isinstance(entry, dict) or not _text(entry.get("channel")):
            raise _fail(path, where, "must be {channel: <channel>, name_ja: <name>}.")
        _check_keys(path, where, entry, LEAD_SOURCE_KEYS)
        texts = {key: _text(entry.get(key)) for key in LEAD_SOURCE_KEYS}
        sources.append(
            LeadSource(
                lead_source=str(_text(name)),
                channel=str(texts["channel"]),
                name_ja=texts["name_ja"],
                channel_name_ja=texts["channel_name_ja"],
            )
        )
    return tuple(sources)


def _check_values(
    path: Path, entity: Entity, column: Column, literals: dict, formats: Sequence, extra: dict
) -> None:
    """Every literal (value -> its YAML key) must be a valid value of the column."""
    values = [v for v in literals if v is not None]
    typed = type_column(entity.name, column, pd.Series(values, dtype=object), formats, extra)
    for value, bad, unknown in zip(values, typed.bad, typed.unknown, strict=True):
        if bad or unknown:
            where, used_by = literals[value]
            raise _fail(
                path,
                where,
                f"{value!r} is not a valid {entity.name}.{column.name} value (used by "
                f"{used_by}).{_expected(entity.name, column, extra)}",
            )


def _check_literals(
    path: Path, files: Sequence[FileSpec], maps: dict[str, ValueMap], extra: dict
) -> None:
    """Constants, defaults, derive `set:` values and value-map outputs must be valid values."""
    for spec in files:
        entity = ENTITIES[spec.entity]
        for col in spec.columns:
            column = entity.column(col.target)
            literals: dict = {}
            if col.value is not None:
                literals = {col.value: (col.where, col.where)}
            elif col.value_map is not None:
                vmap = maps[col.value_map]
                literals = {
                    v: (f"value_maps.{vmap.name}.{k}", col.where) for k, v in vmap.entries.items()
                }
                literals[vmap.default] = (f'value_maps.{vmap.name}."*"', col.where)
            _check_values(path, entity, column, literals, col.formats, extra)
            if col.default is not None:  # canonical text, so no source `format`
                where = f"{col.where}.default"
                _check_values(path, entity, column, {col.default: (where, where)}, (), extra)
        for source in spec.derive.sources if spec.derive else ():
            for name, value in source.values:
                where = f"{source.where}.set.{name}"
                _check_values(path, entity, entity.column(name), {value: (where, where)}, (), extra)


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping YAML; errors name the file and the YAML key."""
    path = Path(path)
    raw = load_yaml(path, MappingError)
    if not isinstance(raw, dict):
        raise _fail(path, "top level", "must be a mapping with `files:` (and `value_maps:`).")
    _check_keys(path, "top level", raw, TOP_KEYS)
    raw_maps = raw.get("value_maps") or {}
    if not isinstance(raw_maps, dict):
        raise _fail(path, "value_maps", "must map names to value maps.")
    maps = {str(name): _parse_value_map(path, str(name), m) for name, m in raw_maps.items()}
    raw_files = raw.get("files")
    if not isinstance(raw_files, list) or not raw_files:
        raise _fail(path, "files", "a non-empty list of file entries is required.")
    files = tuple(_parse_file(path, i, entry, maps) for i, entry in enumerate(raw_files))
    lead_sources = _parse_lead_sources(path, raw.get(LEAD_SOURCES))
    _check_literals(path, files, maps, _declared_values(lead_sources))
    return Mapping(
        path=path,
        files=files,
        value_maps=maps,
        source_system=_text(raw.get("source_system")),
        encoding=_text(raw.get("encoding")),
        lead_sources=lead_sources,
    )


def resolve_mapping(folder: Path, name: str) -> Path:
    """The mapping file: `name` in the folder (.yml/.yaml optional), else a shipped example.

    `name` must be a relative path without `..`; a file (or symlink) resolving outside the
    landing folder (the folder's parent) is refused.
    """
    check_relative(name, f"{folder / 'source.yml'}: mapping", MappingError)
    for base in (folder, SHIPPED_MAPPINGS):
        for candidate in (base / name, base / f"{name}.yml", base / f"{name}.yaml"):
            if candidate.is_file():
                if base == folder:
                    refuse_outside(candidate, folder.parent, MappingError, "mapping file")
                return candidate
    shipped = sorted(p.stem for p in SHIPPED_MAPPINGS.glob("*.yml"))
    raise MappingError(
        f"{folder / 'source.yml'}: mapping {name!r} is neither a file in {folder} nor a "
        f"shipped example ({', '.join(shipped)})."
    )


# ---------------------------------------------------------------------------------------------
# Typing values
# ---------------------------------------------------------------------------------------------


class Typed(NamedTuple):
    """Canonical text; `bad`: unparsable (-> reject); `unknown`: outside a closed set."""

    values: pd.Series
    bad: pd.Series
    unknown: pd.Series


def _seed_values(file_name: str, column: str, where: tuple[str, str] | None = None) -> tuple:
    path = SEEDS_DIR / file_name
    if not path.is_file():
        return ()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(dict.fromkeys(r[column] for r in rows if where is None or r[where[0]] == where[1]))


@lru_cache(maxsize=1)
def _reference_sets() -> dict[tuple[str, str], tuple[str, ...]]:
    stages = _seed_values("stage_map.csv", "opportunity_stage", ("source_system", "canonical"))
    sources = _seed_values("lead_source_channels.csv", "lead_source")
    channels = _seed_values("lead_source_channels.csv", "channel")
    sets = {
        ("opportunities", "opportunity_stage"): stages,
        ("opportunity_stage_history", "opportunity_stage"): stages,
        ("leads", "lead_source"): sources,
        ("spend", "channel"): channels,
    }
    return {key: values for key, values in sets.items() if values}


def closed_values(
    entity: str, column: Column, extra: dict[tuple[str, str], tuple[str, ...]] | None = None
) -> tuple[str, ...] | None:
    """The values a text column may hold: its allowed values or the seed's reference values,
    plus the ones the mapping declares (`extra`, e.g. its `lead_sources:`)."""
    if column.allowed:
        return column.allowed
    key = (entity, column.name)
    values = _reference_sets().get(key, ()) + (extra or {}).get(key, ())
    return tuple(dict.fromkeys(values)) or None


def _expected(entity: str, column: Column, extra: dict | None = None) -> str:
    if column.type == "boolean":
        return " Expected true or false."
    choices = closed_values(entity, column, extra)
    return f" Expected one of: {', '.join(choices)}." if choices else ""


# After NFKC, the dash and wave-dash look-alikes that differ between CP932 and Unicode input.
LOOK_ALIKES = str.maketrans({"\u301c": "~", "\u2212": "-", "\u2010": "-", "\u2015": "-"})


def _fold(series: pd.Series) -> pd.Series:
    """NFKC, look-alikes unified, case-folded, no spaces: the loose key of labels and values."""
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    folded = pd.Series(uniques, dtype=object).str.normalize("NFKC").str.translate(LOOK_ALIKES)
    folded = folded.str.casefold().str.replace(r"\s+", "", regex=True)
    values = np.append(folded.to_numpy(dtype=object), None)[codes]
    return pd.Series(values, index=series.index, dtype=object)


def _fold_text(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).translate(LOOK_ALIKES).casefold().split())


def _distinct(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1 for empty) and the distinct non-empty values of a column, to work once per value."""
    codes, uniques = pd.factorize(text.astype(object), use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype=object)


def _spread(codes: np.ndarray, index: pd.Index, values: pd.Series, empty: object) -> pd.Series:
    """Per-distinct `values` back on the rows (`empty` where the code is -1)."""
    dtype = bool if values.dtype == bool else object
    spread = np.append(values.to_numpy(dtype=dtype), np.array([empty], dtype=dtype))[codes]
    return pd.Series(spread, index=index, dtype=dtype)


def _choose(text: pd.Series, choices: Sequence[str]) -> Typed:
    """Canonical spelling of each value among `choices` (exact, else loosely matched)."""
    codes, uniques = _distinct(text)
    values, _, unknown = _choose_distinct(uniques, choices)
    return Typed(
        _spread(codes, text.index, values, None),
        pd.Series(False, index=text.index),
        _spread(codes, text.index, unknown, False),
    )


def _choose_distinct(text: pd.Series, choices: Sequence[str]) -> Typed:
    exact = text.where(text.isin(choices))
    loose = _fold(text).map({_fold_text(c): c for c in choices})
    values = exact.fillna(loose).astype(object)
    values = values.where(values.notna(), None)
    unknown = text.notna() & values.isna()
    return Typed(values, pd.Series(False, index=text.index), unknown)


PARSERS: dict[str, Callable[[pd.Series, Sequence[str]], Parsed]] = {
    "integer": lambda s, f: parse_integer_series(s),
    "decimal": lambda s, f: parse_number_series(s),
    "decimal6": lambda s, f: parse_number_series(s),
    "date": parse_date_series,
    "timestamp": parse_timestamp_series,
    "month": parse_month_series,
}


def type_column(
    entity: str,
    column: Column,
    text: pd.Series,
    formats: Sequence[str],
    extra: dict[tuple[str, str], tuple[str, ...]] | None = None,
) -> Typed:
    """Canonical text of a column's values, with the bad and the unknown ones flagged."""
    none = pd.Series(False, index=text.index)
    if column.type == "boolean":
        parsed = parse_boolean_series(text)
        return Typed(parsed.values, none, parsed.bad)
    choices = closed_values(entity, column, extra)
    if choices:
        return _choose(text, choices)
    if column.type in PARSERS:
        parsed = PARSERS[column.type](text, formats)
        return Typed(parsed.values, parsed.bad, none)
    return Typed(text, none, none)


def _reason(column: Column, formats: Sequence[str]) -> str:
    if column.type == "integer":
        return "not a whole number"
    if column.type.startswith("decimal"):
        return "not a number"
    spelled = f" in format {' or '.join(formats)}" if formats else ""
    return f"not a {column.type}{spelled}"


# ---------------------------------------------------------------------------------------------
# Converting one file
# ---------------------------------------------------------------------------------------------


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def _count_text(text: pd.Series, mask: pd.Series) -> str:
    counts = text[mask].value_counts()
    return ", ".join(f"{value!r} ({_rows(n)})" for value, n in counts.items())


def _find_label(label: str, columns: Sequence[str]) -> str | None:
    if label in columns:
        return label
    folded = {_fold_text(c): c for c in columns}
    return folded.get(_fold_text(label))


def _labels_of(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in (SOURCE_ROW, READ_ERROR)]


@dataclass
class Folder:
    """The folder being converted: its files, the ones used, and shared reads and lookups.

    Files read by several entries or by a lookup are read once (`shared`); derive entries
    remember the values already derived from earlier files (`derived`).
    """

    path: Path
    mapping: Mapping
    candidates: list[tuple[str, Path]]
    shared: set[Path] = field(default_factory=set)
    used: set[Path] = field(default_factory=set)
    frames: dict[tuple, pd.DataFrame] = field(default_factory=dict)
    tables: dict[Lookup, dict[str, str] | None] = field(default_factory=dict)
    derived: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    def read(self, spec: FileSpec | None, path: Path) -> pd.DataFrame:
        """The file as the entry reads it (for a lookup: as the first entry matching it does)."""
        if spec is None:
            name = unicodedata.normalize("NFC", path.relative_to(self.path).as_posix())
            matching = (s for s in self.mapping.files if _matches(s.pattern, [(name, path)]))
            spec = next(matching, None)
        encoding = (spec.encoding if spec else None) or self.mapping.encoding
        sheet, header_row = (spec.sheet, spec.header_row) if spec else (None, 1)
        key = (path, encoding, sheet, header_row)
        if key in self.frames:
            return self.frames[key]
        frame = read_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
        if path in self.shared:
            self.frames[key] = frame
        return frame


@dataclass
class FileJob:
    """One (file entry, input file) pair being converted, and what it found."""

    mapping: Mapping
    spec: FileSpec
    path: Path
    source_file: str
    frame: pd.DataFrame
    problems: list[str]
    folder: Folder | None = None

    @property
    def entity(self) -> Entity:
        return ENTITIES[self.spec.entity]

    def where(self, col: ColumnSpec) -> str:
        return f"{col.where} in {self.mapping.path.name}"


def _wanted_labels(spec: FileSpec) -> list[tuple[str, str]]:
    """(label, YAML key using it) for every label an entry reads from its own files."""
    wanted = [(label, col.where) for col in spec.columns for label in col.labels]
    wanted += [(f.label, f.where) for f in spec.filters]
    if spec.deduplicate:
        wanted += [(label, spec.deduplicate.where) for label in spec.deduplicate.labels]
    if spec.derive:
        wanted += [(source.label, source.where) for source in spec.derive.sources]
    return wanted


def _resolve_labels(job: FileJob) -> dict[str, str]:
    labels = _labels_of(job.frame)
    found: dict[str, str] = {}
    for label, where in _wanted_labels(job.spec):
        actual = _find_label(label, labels)
        if actual is not None:
            found[label] = actual
            continue
        job.problems.append(
            f"{job.source_file}: column label {label!r} ({where} in {job.mapping.path.name}) is "
            f"not in the file.{_suggest(label, labels)} Labels in the file: {', '.join(labels)}."
        )
    return found


def _source_text(job: FileJob, col: ColumnSpec, labels: dict[str, str]) -> pd.Series:
    index = job.frame.index
    if not col.labels:
        return pd.Series(col.value, index=index, dtype=object)
    joined = job.frame[labels[col.labels[0]]].astype(object)
    for label in col.labels[1:]:
        part = job.frame[labels[label]].astype(object)
        both = joined.notna() & part.notna()
        joined = joined.where(~both, joined + col.sep + part).where(joined.notna(), part)
    return joined.astype(object).where(joined.notna(), None)


def _lookup_table(job: FileJob, col: ColumnSpec) -> dict[str, str] | None:
    """Key -> value of the lookup's files (first non-empty value by file order and row)."""
    lookup, folder = col.lookup, job.folder
    assert lookup is not None and folder is not None
    if lookup in folder.tables:
        return folder.tables[lookup]
    where = f"{col.where}.lookup in {job.mapping.path.name}"
    paths = _matches(lookup.pattern, folder.candidates)
    if not paths:
        job.problems.append(
            f"{job.source_file}: no file in {folder.path} matches the lookup pattern "
            f"{lookup.pattern!r} ({where})."
        )
    parts = []
    for path in paths:
        folder.used.add(path)
        try:
            frame = folder.read(None, path)
        except MappingError as error:
            job.problems.append(str(error))
            continue
        labels = _labels_of(frame)
        found = {name: _find_label(name, labels) for name in (lookup.key, lookup.value)}
        for name, actual in found.items():
            if actual is None:
                job.problems.append(
                    f"{path}: column label {name!r} ({where}) is not in the file."
                    f"{_suggest(name, labels)} Labels in the file: {', '.join(labels)}."
                )
        if all(found.values()):
            parts.append(
                pd.DataFrame(
                    {"key": frame[found[lookup.key]], "value": frame[found[lookup.value]]},
                    dtype=object,
                )
            )
    table = None
    if paths and len(parts) == len(paths):
        rows = pd.concat(parts, ignore_index=True)
        rows = rows[rows["key"].notna() & rows["value"].notna()]
        first = rows.drop_duplicates("key", keep="first")
        table = dict(zip(first["key"], first["value"], strict=True))
        ambiguous = int((rows.groupby("key")["value"].nunique() > 1).sum())
        if ambiguous:
            log.warning(
                "%s: %d %s value(s) of %s have several different %s values in %s (%s); the "
                "first by file order and row is used",
                job.source_file,
                ambiguous,
                lookup.key,
                lookup.pattern,
                lookup.value,
                ", ".join(str(p) for p in paths),
                where,
            )
    folder.tables[lookup] = table
    return table


def _input_text(job: FileJob, col: ColumnSpec, labels: dict[str, str]) -> pd.Series | None:
    """The text a column spec reads: its labels, a constant or the looked-up value."""
    text = _source_text(job, col, labels)
    if col.lookup is None:
        return text
    table = _lookup_table(job, col)
    if table is None:
        return None
    looked_up = text.map(table)
    return looked_up.astype(object).where(looked_up.notna(), None)


def _apply_map(vmap: ValueMap, text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Mapped values and the mask of non-empty values the map does not cover."""
    codes, uniques = _distinct(text)
    values, unmapped = _map_distinct(vmap, uniques)
    empty = vmap.entries.get("")  # empty cells: the map's "" entry, else empty
    return _spread(codes, text.index, values, empty), _spread(codes, text.index, unmapped, False)


def _map_distinct(vmap: ValueMap, text: pd.Series) -> tuple[pd.Series, pd.Series]:
    entries = vmap.entries
    exact = text.isin(list(entries))
    folded_entries = {_fold_text(k): k for k in entries if k}
    folded_key = _fold(text).map(folded_entries)
    key = text.where(exact, folded_key)
    found = key.notna()
    values = key.map(entries).astype(object).where(found, None)
    if "" in entries:
        values = values.where(text.notna(), entries[""])
    unmapped = text.notna() & ~found
    if vmap.has_default:
        values = values.where(~unmapped, vmap.default)
        unmapped = pd.Series(False, index=text.index)
    return values.astype(object), unmapped


def _empties(job: FileJob, col: ColumnSpec, raw: pd.Series) -> tuple[str, str, dict]:
    """Listing, advice and snippet entry for empty cells that no rule covers."""
    vmap = job.mapping.value_maps.get(col.value_map) if col.value_map else None
    covered = col.default is not None or (vmap is not None and "" in vmap.entries)
    empty = int(raw.isna().sum())
    if covered or not empty:
        return "", "", {}
    column = job.entity.column(col.target)
    fate = (
        f"rows with an empty required {job.entity.name}.{col.target} are rejected"
        if column.required
        else "they stay empty"
    )
    rule = f'`"": <value>` in value map {col.value_map!r} or ' if col.value_map else ""
    advice = (
        f" Empty cells: give them a canonical value with {rule}`default: <value>` in "
        f"{col.where}; otherwise {fate}."
    )
    return f", (empty) ({_rows(empty)})", advice, {"": TODO}


def _unmapped_problem(job: FileJob, col: ColumnSpec, text: pd.Series, mask: pd.Series) -> str:
    column = job.entity.column(col.target)
    empty_count, advice, empty_entry = _empties(job, col, text)
    entries = dict.fromkeys(text[mask].unique(), TODO) | empty_entry
    snippet = _snippet({"value_maps": {col.value_map: entries}})
    return (
        f"{job.source_file}: column {col.label_text} ({job.entity.name}.{col.target}, "
        f"{job.where(col)}) has values missing from value map {col.value_map!r}: "
        f"{_count_text(text, mask)}{empty_count}."
        f"{_expected(job.entity.name, column, job.mapping.extra_values)}{advice} Add them to "
        f'{job.mapping.path.name} (or a default entry "*"), e.g.:\n{snippet}'
    )


def _unknown_problem(
    job: FileJob, col: ColumnSpec, text: pd.Series, mask: pd.Series, raw: pd.Series
) -> str:
    column = job.entity.column(col.target)
    name = col.value_map or col.target
    empty_count, advice, empty_entry = _empties(job, col, raw)
    entries = dict.fromkeys(text[mask].unique(), TODO) | empty_entry
    snippet = _snippet({"value_maps": {name: entries}})
    how = (
        f"Fix value map {name!r}"
        if col.value_map
        else f"Add `map: {name}` to {col.where} and a value map"
    )
    return (
        f"{job.source_file}: column {col.label_text} ({job.entity.name}.{col.target}, "
        f"{job.where(col)}) has values that are not canonical: {_count_text(text, mask)}"
        f"{empty_count}.{_expected(job.entity.name, column, job.mapping.extra_values)}{advice} "
        f"{how} in {job.mapping.path.name}, e.g.:\n{snippet}"
    )


# Text whose first and last characters are printable ASCII (not a space): `str.strip()`
# leaves it as it is.
UNSTRIPPED = r"^[!-~](?s:.*[!-~])?$"


def _plain_ids(text: np.ndarray) -> np.ndarray | None:
    """Where the values are clean ids (see `_namespace`), found by pyarrow in C++: text with
    printable ASCII ends that is not a null spelling; False for the others (which then go
    through `namespaced()`). None when the values are not all text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.infer_dtype(text, skipna=False) != "string":
        return None
    try:
        array = pa.array(text, type=pa.string())
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None
    plain = pc.match_substring_regex(array, UNSTRIPPED)
    null = pc.is_in(pc.utf8_lower(array), value_set=pa.array(sorted(NULL_IDS)))
    return pc.and_(plain, pc.invert(null)).to_numpy(zero_copy_only=False)


def _namespace(values: pd.Series, system: str) -> pd.Series:
    """`namespaced(system, value)` of every value, without a per-value function call.

    Clean text (str, stripped, not a null spelling: what the readers and parsers give) is
    prefixed in one array operation; anything else goes through `namespaced()` itself. Text
    columns with repeated ids (owners, accounts...) are namespaced once per distinct id.
    """
    plain = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(plain, skipna=True) == "string" and _repeats(plain):
        codes, uniques = pd.factorize(plain, use_na_sentinel=True)
        if len(uniques) <= len(plain) // 2:
            named = _namespace_values(uniques.astype(object), system)
            return pd.Series(np.append(named, None)[codes], index=values.index, dtype=object)
    return pd.Series(_namespace_values(plain, system), index=values.index, dtype=object)


def _repeats(values: np.ndarray) -> bool:
    """False for one value or a long column whose first DISTINCT_SAMPLE are mostly distinct."""
    if len(values) > 2 * DISTINCT_SAMPLE:
        return pd.Series(values[:DISTINCT_SAMPLE]).nunique() <= DISTINCT_SAMPLE // 2
    return len(values) > 1


def _namespace_values(plain: np.ndarray, system: str) -> np.ndarray:
    out = np.full(len(plain), None, dtype=object)
    present = ~pd.isna(plain)
    text = plain[present]
    if not len(text):
        return out
    clean = _plain_ids(text)
    if clean is None:
        clean = np.array([type(v) is str and v != "" and v == v.strip() for v in text], dtype=bool)
        clean &= ~pd.Series(text).str.lower().isin(NULL_IDS).to_numpy(dtype=bool)
    named = np.empty(len(text), dtype=object)
    named[clean] = f"{system}:" + text[clean]
    named[~clean] = [namespaced(system, v) for v in text[~clean]]
    out[present] = named
    return out


class RowProblems:
    """First problem (column, value, reason) per row; later problems appended to the reason."""

    def __init__(self, index: pd.Index) -> None:
        self.column = pd.Series(None, index=index, dtype=object)
        self.value = pd.Series(None, index=index, dtype=object)
        self.reason = pd.Series(None, index=index, dtype=object)

    def add(
        self, mask: pd.Series, column: str | None, values: pd.Series, reason: str | pd.Series
    ) -> None:
        if not mask.any():
            return
        reasons = reason if isinstance(reason, pd.Series) else pd.Series(reason, index=mask.index)
        first = mask & self.reason.isna()
        later = mask & ~first
        self.column[first] = column
        self.value[first] = values[first]
        self.reason[first] = reasons[first]
        self.reason[later] = self.reason[later] + "; " + reasons[later]

    @property
    def rejected(self) -> pd.Series:
        return self.reason.notna()


def _canonical_constant(job: FileJob, name: str, value: str) -> str | None:
    """A constant (checked when the mapping was loaded) as canonical text."""
    column = job.entity.column(name)
    text = pd.Series([value], dtype=object)
    return type_column(job.entity.name, column, text, (), job.mapping.extra_values).values.iloc[0]


def _convert_column(
    job: FileJob, col: ColumnSpec, labels: dict[str, str], rows: RowProblems, system: str
) -> pd.Series | None:
    column = job.entity.column(col.target)
    raw = _input_text(job, col, labels)
    if raw is None:
        return None
    text = raw
    if col.value_map is not None:
        text, unmapped = _apply_map(job.mapping.value_maps[col.value_map], raw)
        if unmapped.any():
            job.problems.append(_unmapped_problem(job, col, raw, unmapped))
            return None
    typed = type_column(job.entity.name, column, text, col.formats, job.mapping.extra_values)
    if typed.unknown.any():
        job.problems.append(_unknown_problem(job, col, text, typed.unknown, raw))
        return None
    label = f"{col.label_text} ({col.target})"
    rows.add(typed.bad, col.target, text, f"{label}: {_reason(column, col.formats)}")
    values = typed.values
    if col.default is not None:  # the default wins over a value map's "" entry
        values = values.where(raw.notna(), _canonical_constant(job, col.target, col.default))
    if column.required:
        missing = values.isna() & ~typed.bad
        if missing.any():
            log.warning(
                "%s: %s empty in required column %s.%s (%s); rejected. Give empty cells a value "
                'with `default:` (or `"": <value>` in its value map)',
                job.source_file,
                _rows(int(missing.sum())),
                job.entity.name,
                col.target,
                job.where(col),
            )
        rows.add(missing, col.target, text, f"{label}: empty required value")
    if col.target in job.spec.ids:
        values = _namespace(values, col.source or system)
    return values


def _rejects(job: FileJob, rows: RowProblems) -> list[Reject]:
    rejected = rows.rejected
    numbers = job.frame.loc[rejected, SOURCE_ROW]
    return [
        Reject(
            source_file=job.source_file,
            row_number=int(numbers[i]),
            reason=str(rows.reason[i]),
            column=rows.column[i],
            value=rows.value[i],
        )
        for i in numbers.index
    ]


def _filter(job: FileJob, labels: dict[str, str], frame: pd.DataFrame) -> tuple:
    """Rows kept by every `filter:` condition, and a Reject for each row taken out."""
    rejects = []
    for condition in job.spec.filters:
        text = frame[labels[condition.label]]
        keep = condition.keeps(text)
        for number, value in zip(frame.loc[~keep, SOURCE_ROW], text[~keep], strict=True):
            rejects.append(
                Reject(job.source_file, int(number), condition.reason(value), None, value)
            )
        frame = frame[keep]
    return frame, rejects


def _deduplicate(job: FileJob, labels: dict[str, str], frame: pd.DataFrame) -> tuple:
    """One row per key (first or last by file order); the others become Rejects.

    Rows whose key labels are all empty are not duplicates of each other (they are kept, and
    an empty required id then rejects them as usual).
    """
    spec = job.spec.deduplicate
    if spec is None:
        return frame, []
    parts = [frame[labels[label]] for label in spec.labels]
    present = pd.concat(parts, axis=1).notna().any(axis=1)
    key = parts[0].fillna("").astype(str)
    for part in parts[1:]:
        key = key + "\x1f" + part.fillna("").astype(str)
    kept_row = frame[SOURCE_ROW].groupby(key).transform(spec.keep)
    duplicate = key.duplicated(keep=spec.keep) & present
    on = ", ".join(spec.labels)
    rejects = [
        Reject(
            job.source_file,
            int(frame.at[i, SOURCE_ROW]),
            f"duplicate of row {int(kept_row[i])} on {on} ({spec.where}, keep {spec.keep})",
            None,
            key[i].replace("\x1f", ", "),
        )
        for i in duplicate[duplicate].index
    ]
    return frame[~duplicate], rejects


def derive_file(job: FileJob, labels: dict[str, str], system: str, conversion: Conversion) -> None:
    """Rows of a derive entry: one per distinct non-empty value of each `derive.from` column.

    Accounting: a derive entry reads every row and rejects none (the rows belong to the entry
    that converts the file's own entity), so rows_used = rows_read. Rows excluded by its
    `filter:`, unreadable rows and rows with every listed column empty contribute no value.
    """
    spec, frame = job.spec, job.frame
    derive = spec.derive
    assert derive is not None
    keep = frame[READ_ERROR].isna()
    for condition in spec.filters:
        keep &= condition.keeps(frame[labels[condition.label]])
    constants = {c.target: c.value for c in spec.columns}
    contributed = pd.Series(False, index=frame.index)
    parts = []
    for position, source in enumerate(derive.sources):
        text = frame[labels[source.label]].where(keep)
        contributed |= text.notna()
        firsts = text.dropna().drop_duplicates()
        seen = (job.folder.derived if job.folder else {}).setdefault((spec.where, position), set())
        firsts = firsts[~firsts.isin(seen)]
        seen.update(firsts)
        part = pd.DataFrame({derive.key: firsts.to_numpy(dtype=object)}, dtype=object)
        for name, value in (constants | dict(source.values)).items():
            part[name] = _canonical_constant(job, name, str(value))
        part["_source_row"] = frame.loc[firsts.index, SOURCE_ROW].to_numpy(dtype="int64")
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for name in out.columns:
        if name in spec.ids:
            out[name] = _namespace(out[name].astype(object), system)
    ordered = [name for name in job.entity.column_names if name in out.columns]
    result = out[ordered].astype(object)
    result["_source_file"] = job.source_file
    result["_source_row"] = out["_source_row"].astype("int64")
    conversion.add_frame(job.entity.name, result)
    conversion.files.append(FileAccount(job.source_file, len(frame), len(frame), 0))
    log.info(
        "%s: %s derived %d %s row(s) from %d of %d rows",
        job.source_file,
        spec.where,
        len(result),
        job.entity.name,
        int(contributed.sum()),
        len(frame),
    )


def convert_file(job: FileJob, system: str, conversion: Conversion) -> None:
    """Convert one input file for one file entry; problems are collected in `job.problems`.

    Order: labels resolved, rows taken out by `filter:` then by `deduplicate:` (as Rejects),
    then the columns converted on the rows left (bad values reject their row).
    """
    before = len(job.problems)
    labels = _resolve_labels(job)
    if len(job.problems) > before:
        return
    if job.spec.derive is not None:
        derive_file(job, labels, system, conversion)
        return
    rows_read = len(job.frame)
    frame, filtered = _filter(job, labels, job.frame)
    frame, duplicates = _deduplicate(job, labels, frame)
    job.frame = frame
    rows = RowProblems(frame.index)
    read_error = frame[READ_ERROR]
    rows.add(read_error.notna(), None, pd.Series(None, index=frame.index), read_error)
    out: dict[str, pd.Series] = {}
    failed = False
    for col in job.spec.columns:
        values = _convert_column(job, col, labels, rows, system)
        if values is None:
            failed = True
        else:
            out[col.target] = values
    if failed or len(job.problems) > before:
        return
    ordered = [name for name in job.entity.column_names if name in out]
    keep = ~rows.rejected
    columns = {name: out[name][keep] for name in ordered}
    result = pd.DataFrame(columns, dtype=object, copy=False)  # the columns as they are
    result["_source_file"] = job.source_file
    result["_source_row"] = frame.loc[keep, SOURCE_ROW].astype("int64")
    conversion.add_frame(job.entity.name, result.reset_index(drop=True))
    rejects = filtered + duplicates + _rejects(job, rows)
    conversion.rejects.extend(sorted(rejects, key=lambda r: r.row_number or 0))
    used = int(keep.sum())
    conversion.files.append(FileAccount(job.source_file, rows_read, used, rows_read - used))


# ---------------------------------------------------------------------------------------------
# Converting a folder
# ---------------------------------------------------------------------------------------------


def _candidate_files(folder: Path) -> list[tuple[str, Path]]:
    """Files in the folder (recursively) as (NFC relative posix path, path); no hidden/locks."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(p.startswith((".", "~$")) for p in relative.parts):
            continue
        refuse_outside(path, folder.parent, MappingError)
        found.append((unicodedata.normalize("NFC", relative.as_posix()), path))
    return found


def _matches(pattern: str, candidates: list[tuple[str, Path]]) -> list[Path]:
    wanted = unicodedata.normalize("NFC", pattern)
    return [path for name, path in candidates if fnmatch.fnmatchcase(name, wanted)]


def _source_file(path: Path, frame: pd.DataFrame) -> str:
    sheet = frame.attrs.get("sheet")
    return f"{path}#{sheet}" if path.suffix.lower() in EXCEL_SUFFIXES and sheet else str(path)


def _shared_files(mapping: Mapping, candidates: list[tuple[str, Path]]) -> set[Path]:
    """Files read more than once: matched by several entries or by a lookup (read once)."""
    counts: dict[Path, int] = {}
    patterns = [spec.pattern for spec in mapping.files]
    patterns += [c.lookup.pattern for spec in mapping.files for c in spec.columns if c.lookup]
    for pattern in patterns:
        for path in _matches(pattern, candidates):
            counts[path] = counts.get(path, 0) + 1
    return {path for path, n in counts.items() if n > 1}


def _log_unmatched(folder: Folder) -> None:
    for _, path in folder.candidates:
        if (
            path in folder.used
            or path.name in CONFIG_NAMES
            or path.resolve() == folder.mapping.path.resolve()
        ):
            continue
        log.warning("%s: matched by no pattern of %s; ignored", path, folder.mapping.path.name)


def lead_sources_frame(mapping: Mapping) -> pd.DataFrame:
    """The mapping's `lead_sources:` as canonical `lead_sources` rows (lineage: the YAML)."""
    frame = pd.DataFrame(
        {
            "lead_source": [s.lead_source for s in mapping.lead_sources],
            "channel": [s.channel for s in mapping.lead_sources],
            "lead_source_name_ja": [s.name_ja for s in mapping.lead_sources],
            "channel_name_ja": [s.channel_name_ja for s in mapping.lead_sources],
        },
        dtype=object,
    )
    frame["_source_file"] = str(mapping.path)
    frame["_source_row"] = pd.Series(range(1, len(frame) + 1), dtype="int64")
    return frame


def namespace_for(config: dict, mapping: Mapping, default: str) -> str:
    """source.yml's `source_system`, else the mapping's, else the caller's default."""
    return str(config.get("source_system") or mapping.source_system or default)


def convert(folder: Path, config: dict, source_system: str) -> Conversion:
    """Convert a source folder with the mapping named by `config["mapping"]` (source.yml)."""
    folder = Path(folder)
    if not config.get("mapping"):
        raise MappingError(f"{folder / 'source.yml'}: `mapping:` (a mapping YAML) is required.")
    mapping = load_mapping(resolve_mapping(folder, str(config["mapping"])))
    system = namespace_for(config, mapping, source_system)
    conversion = Conversion(source_system=system)
    candidates = _candidate_files(folder)
    context = Folder(folder, mapping, candidates, shared=_shared_files(mapping, candidates))
    problems: list[str] = []
    for spec in mapping.files:
        paths = _matches(spec.pattern, candidates)
        if not paths:
            log.warning("%s: no file matches %r (%s)", folder, spec.pattern, spec.where)
        for path in paths:
            context.used.add(path)
            try:
                frame = context.read(spec, path)
            except MappingError as error:
                problems.append(str(error))
                continue
            source_file = _source_file(path, frame)
            job = FileJob(mapping, spec, path, source_file, frame, problems, context)
            convert_file(job, system, conversion)
    if mapping.lead_sources:
        conversion.add_frame(LEAD_SOURCES, lead_sources_frame(mapping))
    _log_unmatched(context)
    if problems:
        raise MappingError("\n\n".join(dict.fromkeys(problems)))
    return conversion
