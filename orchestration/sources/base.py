"""What every source converter produces: canonical rows, with every input row accounted for.

A *source* is a folder of exports from one system (Salesforce, HubSpot, a Japanese SFA tool,
an agency's spreadsheet). A converter reads it and returns a `Conversion`:

- `frames`: canonical entity name -> DataFrame whose columns are a subset of the entity's
  canonical columns (orchestration/lib/canonical_schema.py), as *text in the canonical format*
  (ISO `YYYY-MM-DD HH:MM:SS` Asia/Tokyo timestamps, `YYYY-MM-DD` dates, `YYYY-MM` months,
  plain decimals like `1200000` or `1200000.50`, `true`/`false`; None or "" for null), plus two
  lineage columns: `_source_file` (path of the original export file) and `_source_row` (its
  1-based data row number, the header not counted).
- `rejects`: input rows that produce no canonical row, each with a reason (a deleted record,
  a row that cannot be read). They go to raw._quarantine; nothing is dropped silently.
- `files`: per input file, rows read / used / rejected, with read = used + rejected.

Ids are namespaced by source (`namespaced()`), so keys never collide across sources; the
canonical CSV format (landing root) keeps its ids as they are.

A wrong mapping (unknown column, unmapped stage value...) raises `MappingError` with a message
that names the file, the column or value, and what to add to the mapping.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

# Canonical timestamps are Japan time (Asia/Tokyo); converters turn exported instants into it.
TOKYO = ZoneInfo("Asia/Tokyo")

LINEAGE_COLUMNS = ("_source_file", "_source_row")
NULL_IDS = frozenset({"nan", "none", "null"})  # id spellings that mean "no id"


class MappingError(ValueError):
    """The mapping does not fit the file: the message says what to add or change."""


@dataclass(frozen=True)
class Reject:
    source_file: str
    row_number: int | None
    reason: str
    column: str | None = None
    value: str | None = None


@dataclass
class FileAccount:
    """Row accounting of one input file: rows_read = rows_used + rows_rejected."""

    source_file: str
    rows_read: int
    rows_used: int
    rows_rejected: int

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_used + self.rows_rejected


@dataclass
class Conversion:
    source_system: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    files: list[FileAccount] = field(default_factory=list)

    def add_frame(self, entity: str, frame: pd.DataFrame) -> None:
        """Append rows for an entity (several input files may feed one entity)."""
        if entity in self.frames:
            frame = pd.concat([self.frames[entity], frame], ignore_index=True)
        self.frames[entity] = frame


def namespaced(source_system: str, value: object) -> str | None:
    """`salesforce:0065g000001` for a native id; None for an empty one."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() in NULL_IDS:
        return None
    return f"{source_system}:{text}"


def write_conversion(conversion: Conversion, out_dir: Path) -> dict[str, Path]:
    """Write each frame as `<out_dir>/<entity>.csv` (canonical columns + lineage columns)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.csv"):
        stale.unlink()
    written = {}
    for entity, frame in conversion.frames.items():
        path = out_dir / f"{entity}.csv"
        write_frame_csv(frame, path)
        written[entity] = path
    return written


WRITE_BATCH_ROWS = 50_000


def write_frame_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame.to_csv(path, index=False)`, written batch by batch as the csv module writes it.

    The same text as pandas writes (minimal quoting, `\n` line ends, empty for None and NaN,
    integers without `.0`), without pandas' per-chunk formatting copies. Batches of text and
    integer columns are joined by pyarrow (`_joined_lines`); rows with a field to quote, and
    batches with other columns, are written by the csv module itself.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([str(name) for name in frame.columns])
        for start in range(0, len(frame), WRITE_BATCH_ROWS):
            batch = frame.iloc[start : start + WRITE_BATCH_ROWS]
            lines = _joined_lines(batch)
            if lines is None:
                writer.writerows(_csv_rows(batch))
            else:  # UTF-8 already: written past the text layer
                handle.flush()
                handle.buffer.write(lines)


def _csv_rows(batch: pd.DataFrame) -> Iterator[tuple]:
    return zip(*(_csv_cells(batch.iloc[:, i]) for i in range(batch.shape[1])), strict=True)


# A field holding one of these or a comma is quoted by the csv module (NUL: to be safe); a
# row holding one is written by the csv module itself, the others are fields joined by commas.
CSV_SPECIAL = '["\r\n\x00]'


def _arrow_text(column: pd.Series):
    """The column as a pyarrow string array (null for missing), None unless it holds numpy
    integers or only text and missing values (what the csv module writes as they are)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.dtype.kind in "iu":
        return pc.cast(pa.array(column.to_numpy()), pa.string())
    if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
        return None
    values = column.to_numpy() if column.dtype == object else column.array
    try:  # the type inferred: bytes, numbers or a mix are not text
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == pa.large_string():
        array = array.cast(pa.string())
    if array.type == pa.null():
        return array.cast(pa.string())
    return array if array.type == pa.string() else None


def _joined_lines(batch: pd.DataFrame) -> bytes | None:
    """The text the csv module writes for the batch's rows (UTF-8), joined by pyarrow; only
    rows with a field to quote (CSV_SPECIAL) go through the csv module. None when a column is
    not integers or text (the csv module then writes the whole batch)."""
    import numpy as np
    import pyarrow.compute as pc

    if batch.shape[1] < 2 or not len(batch):
        return None  # a lone empty field is quoted by the csv module
    columns = []
    for i in range(batch.shape[1]):
        column = _arrow_text(batch.iloc[:, i])
        if column is None:
            return None
        columns.append(column)
    joined = pc.binary_join_element_wise(*columns, ",", null_handling="replace")
    special = pc.or_(
        pc.not_equal(pc.count_substring(joined, ","), len(columns) - 1),
        pc.match_substring_regex(joined, CSV_SPECIAL),
    )
    quoted = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    lines = pc.binary_join_element_wise(joined, "", "\n")
    offsets = np.frombuffer(
        lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
    )
    data = memoryview(lines.buffers()[2])
    if not len(quoted):
        return bytes(data[offsets[0] : offsets[-1]])
    out = io.BytesIO()
    row_text = io.StringIO()
    writer = csv.writer(row_text, lineterminator="\n")
    done = 0
    for position, row in zip(quoted, _csv_rows(batch.iloc[quoted]), strict=True):
        out.write(data[offsets[done] : offsets[position]])
        row_text.seek(0)
        row_text.truncate()
        writer.writerow(row)
        out.write(row_text.getvalue().encode("utf-8"))
        done = position + 1
    out.write(data[offsets[done] : offsets[-1]])
    return out.getvalue()


def _csv_cells(column: pd.Series) -> list:
    """Cell values as pandas' to_csv renders them: None for missing, plain ints, text as is."""
    if pd.api.types.is_integer_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return column.tolist()
    values = column.to_numpy(dtype=object, na_value=None)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = None
    return values.tolist()
