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
        ids: [opportunity_id, account_id]   # optional; default: mapped columns ending in _id
    value_maps:
      stage: {アプローチ: approach, 受注: closed_won, 失注: closed_lost}
      won_flag: {受注: "true", "*": "false"}    # "*": any other non-empty value
      lost_reason: {"": null, "-": null}       # "" matches empty cells; null maps to empty

Semantics:

- Validation of the YAML itself (`load_mapping`) names the YAML file and key
  (`files[0].columns.amount.map`): unknown keys, entities, canonical columns or value maps;
  a required canonical column left unmapped (with a snippet to add); constants and value-map
  outputs that are not valid for the column (e.g. a stage missing from seeds/stage_map.csv).
- Per file, a mapped label missing from the file, a value absent from its value map (and no
  `"*"`), or a value outside a closed set (allowed values, booleans, canonical stages, lead
  sources, channels) used without a value map is a *mapping error*: all of them are collected
  and raised together as one `MappingError` naming the file, the column, every distinct value
  with its row count and the YAML to add.
- A value that cannot be parsed (a bad date or number) or an empty required value is *data*:
  the row becomes one `Reject` (first problem's column and value, all problems in the reason)
  and produces no canonical row. Per file entry, rows_read = rows_used + rows_rejected.
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
from orchestration.sources.base import Conversion, FileAccount, MappingError, Reject, namespaced
from orchestration.sources.readers import (
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
TOP_KEYS = ("source_system", "encoding", "files", "value_maps", "description")
FILE_KEYS = ("pattern", "entity", "sheet", "header_row", "encoding", "columns", "ids")
SPEC_KEYS = ("column", "value", "format", "map", "source", "sep")
DATE_TYPES = ("date", "timestamp", "month")
DEFAULT_KEY = "*"
TODO = "TODO"

# ---------------------------------------------------------------------------------------------
# The mapping, validated
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """How one canonical column is filled: from source labels or a constant."""

    target: str
    labels: tuple[str, ...] = ()
    value: str | None = None
    formats: tuple[str, ...] = ()
    value_map: str | None = None
    source: str | None = None
    sep: str = "-"
    where: str = ""

    @property
    def label_text(self) -> str:
        return " + ".join(self.labels) if self.labels else f"constant {self.value!r}"


@dataclass(frozen=True)
class FileSpec:
    """One `files:` entry: which files, which entity, which columns."""

    pattern: str
    entity: str
    columns: tuple[ColumnSpec, ...]
    ids: frozenset[str]
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None
    where: str = ""


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
    return ColumnSpec(
        target=column.name,
        labels=_as_labels(path, f"{where}.column", raw["column"]) if "column" in raw else (),
        value=_text(raw.get("value")),
        formats=_as_formats(path, f"{where}.format", raw.get("format"), column),
        value_map=map_name,
        source=_text(raw.get("source")),
        sep=str(raw.get("sep", "-")),
        where=where,
    )


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


def _parse_file(path: Path, index: int, raw: Any, maps: dict) -> FileSpec:
    where = f"files[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping with pattern, entity and columns.")
    _check_keys(path, where, raw, FILE_KEYS)
    for key in ("pattern", "entity", "columns"):
        if key not in raw:
            raise _fail(path, where, f"`{key}` is required.")
    entity_name = str(raw["entity"])
    if entity_name not in ENTITIES:
        hint = _suggest(entity_name, ENTITIES)
        raise _fail(path, f"{where}.entity", f"unknown entity {entity_name!r}.{hint}")
    entity = ENTITIES[entity_name]
    if not isinstance(raw["columns"], dict):
        raise _fail(path, f"{where}.columns", "must map canonical columns to source labels.")
    specs = []
    for name, spec in raw["columns"].items():
        if name not in entity.column_names:
            hint = _suggest(str(name), entity.column_names)
            raise _fail(path, f"{where}.columns.{name}", f"not a column of {entity_name}.{hint}")
        specs.append(_parse_spec(path, f"{where}.columns.{name}", entity.column(name), spec, maps))
    _check_required(path, where, str(raw["pattern"]), entity, {s.target for s in specs})
    header_row = raw.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        raise _fail(path, f"{where}.header_row", "must be a row number (1 or more).")
    return FileSpec(
        pattern=str(raw["pattern"]),
        entity=entity_name,
        columns=tuple(specs),
        ids=_parse_ids(path, f"{where}.ids", raw.get("ids"), entity, specs),
        sheet=_text(raw.get("sheet")),
        header_row=header_row,
        encoding=_text(raw.get("encoding")),
        where=where,
    )


def _check_literals(path: Path, files: Sequence[FileSpec], maps: dict[str, ValueMap]) -> None:
    """Constants and value-map outputs must be valid values of the columns they fill."""
    for spec in files:
        entity = ENTITIES[spec.entity]
        for col in spec.columns:
            column = entity.column(col.target)
            if col.value is not None:
                literals = {col.value: col.where}
            elif col.value_map is not None:
                vmap = maps[col.value_map]
                literals = {v: f"value_maps.{vmap.name}.{k}" for k, v in vmap.entries.items()}
                literals[vmap.default] = f'value_maps.{vmap.name}."*"'
            else:
                continue
            values = [v for v in literals if v is not None]
            typed = type_column(entity.name, column, pd.Series(values, dtype=object), col.formats)
            for value, bad, unknown in zip(values, typed.bad, typed.unknown, strict=True):
                if bad or unknown:
                    raise _fail(
                        path,
                        literals[value],
                        f"{value!r} is not a valid {entity.name}.{column.name} value (used by "
                        f"{col.where}).{_expected(entity.name, column)}",
                    )


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping YAML; errors name the file and the YAML key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MappingError(f"{path}: cannot be read as YAML: {error}") from error
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
    _check_literals(path, files, maps)
    return Mapping(
        path=path,
        files=files,
        value_maps=maps,
        source_system=_text(raw.get("source_system")),
        encoding=_text(raw.get("encoding")),
    )


def resolve_mapping(folder: Path, name: str) -> Path:
    """The mapping file: `name` in the folder (.yml/.yaml optional), else a shipped example."""
    for base in (folder, SHIPPED_MAPPINGS):
        for candidate in (base / name, base / f"{name}.yml", base / f"{name}.yaml"):
            if candidate.is_file():
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


def closed_values(entity: str, column: Column) -> tuple[str, ...] | None:
    """The values a text column may hold: its allowed values or the seed's reference values."""
    if column.allowed:
        return column.allowed
    return _reference_sets().get((entity, column.name))


def _expected(entity: str, column: Column) -> str:
    if column.type == "boolean":
        return " Expected true or false."
    choices = closed_values(entity, column)
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


def _choose(text: pd.Series, choices: Sequence[str]) -> Typed:
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


def type_column(entity: str, column: Column, text: pd.Series, formats: Sequence[str]) -> Typed:
    """Canonical text of a column's values, with the bad and the unknown ones flagged."""
    none = pd.Series(False, index=text.index)
    if column.type == "boolean":
        parsed = parse_boolean_series(text)
        return Typed(parsed.values, none, parsed.bad)
    choices = closed_values(entity, column)
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


def _count_text(text: pd.Series, mask: pd.Series) -> str:
    counts = text[mask].value_counts()
    return ", ".join(f"{value!r} ({n} row{'s' if n != 1 else ''})" for value, n in counts.items())


def _find_label(label: str, columns: Sequence[str]) -> str | None:
    if label in columns:
        return label
    folded = {_fold_text(c): c for c in columns}
    return folded.get(_fold_text(label))


@dataclass
class FileJob:
    """One (file entry, input file) pair being converted, and what it found."""

    mapping: Mapping
    spec: FileSpec
    path: Path
    source_file: str
    frame: pd.DataFrame
    problems: list[str]

    @property
    def entity(self) -> Entity:
        return ENTITIES[self.spec.entity]

    def where(self, col: ColumnSpec) -> str:
        return f"{col.where} in {self.mapping.path.name}"


def _resolve_labels(job: FileJob) -> dict[str, str]:
    labels = [c for c in job.frame.columns if c not in (SOURCE_ROW, READ_ERROR)]
    found: dict[str, str] = {}
    for col in job.spec.columns:
        for label in col.labels:
            actual = _find_label(label, labels)
            if actual is not None:
                found[label] = actual
                continue
            job.problems.append(
                f"{job.source_file}: column label {label!r} ({job.where(col)}) is not in the "
                f"file.{_suggest(label, labels)} Labels in the file: {', '.join(labels)}."
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


def _apply_map(vmap: ValueMap, text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Mapped values and the mask of non-empty values the map does not cover."""
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


def _unmapped_problem(job: FileJob, col: ColumnSpec, text: pd.Series, mask: pd.Series) -> str:
    column = job.entity.column(col.target)
    snippet = _snippet({"value_maps": {col.value_map: dict.fromkeys(text[mask].unique(), TODO)}})
    return (
        f"{job.source_file}: column {col.label_text} ({job.entity.name}.{col.target}, "
        f"{job.where(col)}) has values missing from value map {col.value_map!r}: "
        f"{_count_text(text, mask)}.{_expected(job.entity.name, column)} Add them to "
        f'{job.mapping.path.name} (or a default entry "*"), e.g.:\n{snippet}'
    )


def _unknown_problem(job: FileJob, col: ColumnSpec, text: pd.Series, mask: pd.Series) -> str:
    column = job.entity.column(col.target)
    name = col.value_map or col.target
    snippet = _snippet({"value_maps": {name: dict.fromkeys(text[mask].unique(), TODO)}})
    how = (
        f"Fix value map {name!r}"
        if col.value_map
        else f"Add `map: {name}` to {col.where} and a value map"
    )
    return (
        f"{job.source_file}: column {col.label_text} ({job.entity.name}.{col.target}, "
        f"{job.where(col)}) has values that are not canonical: {_count_text(text, mask)}."
        f"{_expected(job.entity.name, column)} {how} in {job.mapping.path.name}, e.g.:\n{snippet}"
    )


def _namespace(values: pd.Series, system: str) -> pd.Series:
    distinct = values.dropna().unique()
    lookup = {value: namespaced(system, value) for value in distinct}
    return values.map(lookup).astype(object).where(values.notna(), None)


class RowProblems:
    """First problem (column, value, reason) per row; later problems appended to the reason."""

    def __init__(self, index: pd.Index) -> None:
        self.column = pd.Series(None, index=index, dtype=object)
        self.value = pd.Series(None, index=index, dtype=object)
        self.reason = pd.Series(None, index=index, dtype=object)

    def add(
        self, mask: pd.Series, column: str | None, values: pd.Series, reason: str | pd.Series
    ) -> None:
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


def _convert_column(
    job: FileJob, col: ColumnSpec, labels: dict[str, str], rows: RowProblems, system: str
) -> pd.Series | None:
    column = job.entity.column(col.target)
    text = _source_text(job, col, labels)
    if col.value_map is not None:
        text, unmapped = _apply_map(job.mapping.value_maps[col.value_map], text)
        if unmapped.any():
            raw = _source_text(job, col, labels)
            job.problems.append(_unmapped_problem(job, col, raw, unmapped))
            return None
    typed = type_column(job.entity.name, column, text, col.formats)
    if typed.unknown.any():
        job.problems.append(_unknown_problem(job, col, text, typed.unknown))
        return None
    label = f"{col.label_text} ({col.target})"
    rows.add(typed.bad, col.target, text, f"{label}: {_reason(column, col.formats)}")
    values = typed.values
    if column.required:
        rows.add(values.isna() & ~typed.bad, col.target, text, f"{label}: empty required value")
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


def convert_file(job: FileJob, system: str, conversion: Conversion) -> None:
    """Convert one input file for one file entry; problems are collected in `job.problems`."""
    before = len(job.problems)
    labels = _resolve_labels(job)
    if len(job.problems) > before:
        return
    rows = RowProblems(job.frame.index)
    read_error = job.frame[READ_ERROR]
    rows.add(read_error.notna(), None, pd.Series(None, index=job.frame.index), read_error)
    out: dict[str, pd.Series] = {}
    for col in job.spec.columns:
        values = _convert_column(job, col, labels, rows, system)
        if values is not None:
            out[col.target] = values
    if len(job.problems) > before:
        return
    ordered = [name for name in job.entity.column_names if name in out]
    keep = ~rows.rejected
    frame = pd.DataFrame({name: out[name][keep] for name in ordered}, dtype=object)
    frame["_source_file"] = job.source_file
    frame["_source_row"] = job.frame.loc[keep, SOURCE_ROW].astype("int64")
    conversion.add_frame(job.entity.name, frame.reset_index(drop=True))
    conversion.rejects.extend(_rejects(job, rows))
    conversion.files.append(
        FileAccount(job.source_file, len(job.frame), int(keep.sum()), int((~keep).sum()))
    )


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
        found.append((unicodedata.normalize("NFC", relative.as_posix()), path))
    return found


def _matches(pattern: str, candidates: list[tuple[str, Path]]) -> list[Path]:
    wanted = unicodedata.normalize("NFC", pattern)
    return [path for name, path in candidates if fnmatch.fnmatchcase(name, wanted)]


def _source_file(path: Path, frame: pd.DataFrame) -> str:
    sheet = frame.attrs.get("sheet")
    return f"{path}#{sheet}" if path.suffix.lower() in EXCEL_SUFFIXES and sheet else str(path)


def _read(mapping: Mapping, spec: FileSpec, path: Path) -> pd.DataFrame:
    encoding = spec.encoding or mapping.encoding
    return read_table(path, encoding=encoding, sheet=spec.sheet, header_row=spec.header_row)


def _log_unmatched(folder: Path, candidates: list, used: set[Path], mapping: Mapping) -> None:
    for _, path in candidates:
        if path in used or path.name in CONFIG_NAMES or path.resolve() == mapping.path.resolve():
            continue
        log.warning("%s: matched by no pattern of %s; ignored", path, mapping.path.name)


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
    used: set[Path] = set()
    problems: list[str] = []
    for spec in mapping.files:
        paths = _matches(spec.pattern, candidates)
        if not paths:
            log.warning("%s: no file matches %r (%s)", folder, spec.pattern, spec.where)
        for path in paths:
            used.add(path)
            try:
                frame = _read(mapping, spec, path)
            except MappingError as error:
                problems.append(str(error))
                continue
            job = FileJob(mapping, spec, path, _source_file(path, frame), frame, problems)
            convert_file(job, system, conversion)
    _log_unmatched(folder, candidates, used, mapping)
    if problems:
        raise MappingError("\n\n".join(problems))
    return conversion
