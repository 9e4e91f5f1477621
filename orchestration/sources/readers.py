"""Read any export (CSV/TSV in any Japanese encoding, or .xlsx) into a frame of strings, and
parse the values Japanese spreadsheets hold into canonical text.

Reading (`read_table`):

- Encoding: the declared one, else detected: a UTF-8 BOM means `utf-8-sig`; text that decodes
  as strict UTF-8 is UTF-8; otherwise charset-normalizer decides, preferring a Japanese
  candidate when it offers one. Shift_JIS (declared or detected) is always read as `cp932`,
  the Windows superset Excel writes (①, ㈱, NEC/IBM extensions).
- CSV via the `csv` module (CRLF, quoted newlines and quoted commas are handled); a header line
  with more tabs than commas is read as TSV. With a declared encoding (e.g. the mapping's
  `encoding: cp932`) the file is first read by pyarrow's CSV reader (C++; the encoding decoded
  in streaming blocks, each column's cells cleaned once per distinct value, equal cells sharing
  one str), giving the same frame; a file that is not plain CSV for it (a record whose field
  count differs from the header's, a field over the csv module's limit, a bad byte) is read by
  the csv module instead, streamed through `io.TextIOWrapper` and typed in chunks of
  `CHUNK_ROWS` records, with its row numbers, `_read_error`s and messages. `.xlsx` via openpyxl (read-only, cached values):
  date cells become ISO text (`2025-04-03` or `2025-04-03 10:00:00`), numbers plain decimals.
- JSON Lines (`.jsonl`, `.ndjson`, `.json`: one object per line; a `.json` file holding one
  array of objects is accepted too) via the `json` module, so strings keep their exact
  spelling (`2025-04-03T01:00:00Z` stays as written and its offset is honoured by the parsers;
  DuckDB's or pyarrow's JSON readers would infer timestamps and drop it). The labels are the
  keys, in order of first appearance; a missing key is an empty cell.
- Parquet (`.parquet`) via pyarrow. Values become their text form: timestamps
  `2025-04-01 09:00:00` (a time-zone-aware one converted to Asia/Tokyo first; fractional
  seconds kept when not zero), dates `2025-04-01`, integral floats without `.0` (`1200000`),
  other floats and decimals as plain decimals, booleans `true`/`false`, null empty.
- JSON and Parquet: the row number is the 1-based record index (blank JSON lines are not
  records); a nested value (object, list, struct) is a `MappingError` naming the file, the
  record and the key.
- Every value is a stripped `str`; empty cells are `None`. Duplicate header labels get a
  `.1`, `.2` suffix; an empty header cell is named `column<N>` (1-based position).
- `_source_row` is the 1-based data row number (the header row and rows above it not counted),
  i.e. the row a user finds in the file: record N after the header is row N.
- Fully blank rows (trailing rows Excel leaves behind, or empty lines) are *not data rows*: they
  are dropped and not counted as rows at all, but keep their place in the numbering, so a
  `_source_row` always points at the physical record. `frame.attrs["blank_rows"]` counts them.
- A CSV record with more non-empty fields than the header has a `_read_error` text; every other
  row has `_read_error = None` (the column is always present).

Parsing (shared with other converters): `parse_number`, `parse_integer`, `parse_date`,
`parse_timestamp`, `parse_month` return canonical text (`1200000`, `2025-04-03`,
`2025-04-03 10:00:00`, `2025-04`) or raise ValueError. Each has a vectorised twin on a
Series (`*_series`) returning a `Parsed(values, bad)` pair, so converters type whole columns
without Python loops over rows. Numbers and dates are NFKC-normalised first (full-width digits,
`，`, `／`, `：`, `￥`); free text is never normalised.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import charset_normalizer
import numpy as np
import pandas as pd

from orchestration.lib.canonical_schema import FALSE_WORDS, TRUE_WORDS
from orchestration.lib.input_files import bad_byte, check_xlsx, decode_text
from orchestration.sources.base import TOKYO, MappingError

SOURCE_ROW = "_source_row"
READ_ERROR = "_read_error"
UTF8_BOM = b"\xef\xbb\xbf"
SHIFT_JIS_NAMES = frozenset(
    {"shift_jis", "shift-jis", "sjis", "s_jis", "shiftjis", "ms932", "windows-31j", "cp932"}
    | {"shift_jis_2004", "shift_jisx0213", "ms_kanji", "x-sjis", "csshiftjis"}
)
JAPANESE_ENCODINGS = SHIFT_JIS_NAMES | {"euc_jp", "euc-jp", "iso2022_jp", "iso-2022-jp"}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet",)
CHUNK_ROWS = 50_000  # records typed per step when a file is read
TOKYO_OFFSET_MINUTES = 9 * 60  # Asia/Tokyo has had no daylight saving time since 1951

# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def normalise_encoding(name: str) -> str:
    """Python codec name for a declared or detected encoding; Shift_JIS becomes cp932."""
    key = name.strip().lower().replace(" ", "")
    if key in SHIFT_JIS_NAMES:
        return "cp932"
    if key in {"utf8", "utf-8", "utf_8"}:
        return "utf-8"
    if key in {"utf-8-sig", "utf_8_sig", "utf8-sig", "utf8bom", "utf-8-bom"}:
        return "utf-8-sig"
    return key


def detect_encoding(data: bytes) -> str:
    """Guess the encoding of an export: BOM, strict UTF-8, then charset-normalizer."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    for match in matches:
        if match.encoding.lower() in JAPANESE_ENCODINGS:
            return normalise_encoding(match.encoding)
    best = matches.best()
    if best is None:
        raise ValueError("the encoding cannot be detected")
    return normalise_encoding(best.encoding)


MAPPING_ENCODING_HINT = (
    "What to do: declare the file's encoding in the mapping (`encoding: cp932` for Shift_JIS, "
    "`encoding: utf-8` for UTF-8), or save the file as UTF-8."
)
SOURCE_ENCODING_HINT = (
    "What to do: declare the file's encoding in source.yml (`encoding: cp932` for Shift_JIS, "
    "`encoding: utf-8` for UTF-8), or save the file as UTF-8."
)


def decode_export(
    path: Path, encoding: str | None, hint: str = MAPPING_ENCODING_HINT, data: bytes | None = None
) -> str:
    """The text of an export in its declared (else detected) encoding; a MappingError naming
    the file, the line and byte offset of the first bad byte and the encoding tried."""
    data = path.read_bytes() if data is None else data
    try:
        codec = normalise_encoding(encoding) if encoding else detect_encoding(data)
    except ValueError as error:
        first = bad_byte(data, "utf-8")
        where = f" (not UTF-8 from {first.describe()})" if first else ""
        raise MappingError(f"{path}: {error}{where}. {hint}") from error
    if codec == "utf-8" and data.startswith(UTF8_BOM):
        codec = "utf-8-sig"
    return decode_text(data, codec, path, MappingError, hint)


def _decode(path: Path, encoding: str | None) -> str:
    return decode_export(path, encoding)


def _csv_records(path: Path, encoding: str | None) -> Iterator[list[str]]:
    """The file's CSV records, streamed when the encoding is declared (decoded in chunks, so
    the whole text is never held); an undeclared encoding is detected on the whole file."""
    codec = normalise_encoding(encoding) if encoding else None
    if codec is not None:
        try:
            codecs.lookup(codec)
        except LookupError:
            codec = None  # decode_export names the unknown encoding
    if codec is None:
        text = _decode(path, encoding)
        first_line = text.split("\n", 1)[0]
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        yield from csv_records(path, text, delimiter)
        return
    with path.open("rb") as raw:
        if codec == "utf-8" and raw.read(3) != UTF8_BOM:
            raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding=codec, newline="")
        try:
            first_line = stream.readline()
            delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
            lines = itertools.chain([first_line], stream)
            yield from _reader_records(path, csv.reader(lines, delimiter=delimiter))
        except UnicodeDecodeError:
            pass
        else:
            return
    _decode(path, encoding)  # raises the MappingError naming the line and byte
    raise AssertionError(f"{path}: streamed decoding failed but decoding the file did not")


def _reader_records(path: Path, reader: Any) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as error:
        raise MappingError(
            f"{path}: line {reader.line_num}: cannot be read as CSV ({error}). What to do: "
            "check that line for an unterminated quote, or export the file again."
        ) from error


def csv_records(path: Path, text: str, delimiter: str = ",") -> list[list[str]]:
    """Every record of a CSV text; a MappingError naming the file and line when the csv
    module refuses one (e.g. a field over its 128 KiB limit)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return list(_reader_records(path, reader))


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    return format(Decimal(f"{value:.15g}"), "f")


def cell_text(value: object) -> str | None:
    """Text of a spreadsheet cell: ISO dates, plain decimals, `true`/`false`; blank -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return _float_text(value)
    text = str(value).strip()
    return text or None


def xlsx_records(path: Path, sheet: str | None) -> tuple[list[list[str | None]], str]:
    """Every row of a sheet (the first when `sheet` is None) as cell texts (cell_text), and the
    sheet's name; a MappingError for a damaged workbook or a missing sheet."""
    from openpyxl import load_workbook

    check_xlsx(path, MappingError)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise MappingError(
            f"{path}: not a readable .xlsx workbook ({type(error).__name__}: {error}). "
            "Open it in Excel and save it again as .xlsx (or export CSV UTF-8)."
        ) from error
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise MappingError(
                f"{path}: no sheet {sheet!r}; sheets in the file: {', '.join(workbook.sheetnames)}."
            )
        records = [[cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
        return records, worksheet.title
    finally:
        workbook.close()


def _nested(path: Path, number: int, key: str, value: object) -> MappingError:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return MappingError(
        f"{path}: record {number}: key {key!r} holds a nested value ({shown}); only flat "
        "records can be mapped: flatten the export (one column per value) before loading it."
    )


def _json_value(path: Path, number: int, key: str, value: object) -> str | None:
    if isinstance(value, dict | list):
        raise _nested(path, number, key, value)
    if isinstance(value, float):
        return _float_text(value)
    return cell_text(value)


def _json_objects(path: Path, text: str) -> list[dict]:
    if text.lstrip().startswith("["):
        try:
            objects = json.loads(text)
        except json.JSONDecodeError as error:
            raise MappingError(f"{path}: not valid JSON ({error}).") from error
    else:
        objects = []
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise MappingError(
                    f"{path}: line {line_number} is not a JSON object ({error}); JSON Lines "
                    "files hold one object per line."
                ) from error
    for number, obj in enumerate(objects, start=1):
        if not isinstance(obj, dict):
            raise MappingError(
                f"{path}: record {number} is not a JSON object ({json.dumps(obj)[:60]})."
            )
    return objects


def _json_records(path: Path, encoding: str | None) -> list[list[str | None]]:
    objects = _json_objects(path, _decode(path, encoding))
    if not objects:
        raise MappingError(f"{path}: holds no JSON records, so its labels cannot be known.")
    labels = list(dict.fromkeys(key for obj in objects for key in obj))
    rows = [
        [_json_value(path, number, key, obj.get(key)) for key in labels]
        for number, obj in enumerate(objects, start=1)
    ]
    return [labels, *rows]


def _arrow_value(path: Path, number: int, key: str, value: object) -> str | None:
    if isinstance(value, dict | list | tuple):
        raise _nested(path, number, key, value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(TOKYO).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    if isinstance(value, bytes):
        return _clean(value.decode("utf-8", errors="replace"))
    return _json_value(path, number, key, value)


def _parquet_records(path: Path) -> list[list[str | None]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several error types for a bad file
        raise MappingError(f"{path}: cannot be read as Parquet ({error}).") from error
    labels = list(table.column_names)
    columns = [
        [_arrow_value(path, n, key, v) for n, v in enumerate(table.column(key).to_pylist(), 1)]
        for key in labels
    ]
    return [labels, *(list(row) for row in zip(*columns, strict=True))]


def _header_labels(raw: Sequence[str | None]) -> list[str]:
    labels: list[str] = []
    seen: dict[str, int] = {}
    for position, value in enumerate(raw, start=1):
        label = (value or "").strip() or f"column{position}"
        if label in seen:
            seen[label] += 1
            label = f"{label}.{seen[label]}"
        else:
            seen[label] = 0
        labels.append(label)
    return labels


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def _clean_column(column: Sequence[str | None]) -> np.ndarray:
    """Stripped values (None for empty) of one column of a chunk, cleaned once per distinct
    value; equal values share one str object, so repeated labels cost a pointer per row."""
    codes, uniques = pd.factorize(np.array(column, dtype=object), use_na_sentinel=True)
    cleaned = [_clean(value) for value in uniques]
    return np.array([*cleaned, None], dtype=object)[codes]


def _records_to_frame(records: Iterable[Sequence[str | None]], header_row: int) -> pd.DataFrame:
    """The frame of the records after the header row, built column by column in chunks of
    CHUNK_ROWS records (no per-row lists or dicts kept), so a streamed file is never held as
    text or as records."""
    remaining = iter(records)
    head = list(itertools.islice(remaining, header_row))
    if len(head) < header_row:
        raise MappingError(f"the file has no header row {header_row} (it has {len(head)} rows)")
    labels = _header_labels(head[-1])
    width = len(labels)
    parts: list[list[np.ndarray]] = [[] for _ in range(width)]
    numbers: list[np.ndarray] = []
    errors: list[np.ndarray] = []
    blank = 0
    read = 0
    while chunk := list(itertools.islice(remaining, CHUNK_ROWS)):
        size = len(chunk)
        chunk_errors = np.full(size, None, dtype=object)
        extra_values = np.zeros(size, dtype=bool)
        for i, record in enumerate(chunk):
            if len(record) == width:
                continue
            if any(_clean(v) for v in record[width:]):
                chunk_errors[i] = f"row has {len(record)} fields, the header has {width}"
                extra_values[i] = True
            chunk[i] = (list(record) + [None] * width)[:width]
        columns = [_clean_column(column) for column in (zip(*chunk, strict=True) if width else ())]
        present = extra_values.copy()
        for column in columns:
            present |= column != None  # noqa: E711 (element-wise on an object array)
        blank += size - int(present.sum())
        for part, column in zip(parts, columns, strict=True):
            part.append(column[present])
        numbers.append(np.arange(read + 1, read + size + 1, dtype="int64")[present])
        errors.append(chunk_errors[present])
        read += size
    data = {
        label: np.concatenate(part) if part else np.array([], dtype=object)
        for label, part in zip(labels, parts, strict=True)
    }
    frame = pd.DataFrame(data, columns=labels, dtype=object)
    frame[SOURCE_ROW] = np.concatenate(numbers) if numbers else np.array([], dtype="int64")
    frame[READ_ERROR] = pd.Series(
        np.concatenate(errors) if errors else np.array([], dtype=object), dtype=object
    )
    frame.attrs["blank_rows"] = blank
    return frame


# Text whose first and last characters are printable ASCII (not a space), CJK or full-width
# forms (not the ideographic space U+3000): `str.strip()` leaves it as it is.
UNSTRIPPED = (
    r"^[!-~\x{3001}-\x{9fff}\x{ff01}-\x{ffef}]"
    r"(?s:.*[!-~\x{3001}-\x{9fff}\x{ff01}-\x{ffef}])?$"
)


DISTINCT_SAMPLE = 10_000  # rows whose distinct count decides: cleaned once per value or per row


def _clean_array(values: Any) -> np.ndarray:
    """`[_clean(value) for value in values.to_pylist()]` of a pyarrow string array, as an
    object array: values that strip to themselves (UNSTRIPPED) are taken as they are."""
    import pyarrow.compute as pc

    cleaned = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    plain = pc.fill_null(pc.match_substring_regex(values, UNSTRIPPED), False)
    other = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
    cleaned[other] = np.array([_clean(value) for value in cleaned[other]] or [], dtype=object)
    return cleaned


def _arrow_csv_frame(path: Path, encoding: str | None) -> pd.DataFrame | None:
    """The frame `_records_to_frame(_csv_records(...))` gives, read by pyarrow's CSV reader
    (parsed in C++, the declared encoding decoded in streaming blocks); None when the file is
    not plain (undeclared or unknown encoding, a record whose field count differs from the
    header's, an empty line, a field over the csv module's limit, anything pyarrow refuses),
    and then the csv module reads it with its row numbering, read errors and messages."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pa_csv

    if not encoding:
        return None
    codec = normalise_encoding(encoding)
    try:
        codecs.lookup(codec)
        with path.open("rb") as raw:
            start = raw.read(1 << 16)
        first_line = start.split(b"\n", 1)[0].decode(codec, errors="replace")
    except (LookupError, OSError):
        return None
    if codec == "utf-8":
        codec = "utf-8-sig" if start.startswith(UTF8_BOM) else "utf8"
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    width = len(next(csv.reader([first_line], delimiter=delimiter), []))
    if not width:
        return None
    names = [f"c{i}" for i in range(width)]

    def refuse(_row: object) -> str:
        return "error"  # pyarrow stops: the csv module reads the file

    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                column_names=names, encoding=codec, block_size=1 << 22, use_threads=False
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=refuse,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except Exception:  # the csv module path reads it, or names the problem
        return None
    if table.num_rows == 0:
        return None
    limit = csv.field_size_limit()
    columns = []
    present = np.zeros(table.num_rows - 1, dtype=bool)
    for name in names:
        column = table.column(name)
        if (pc.max(pc.binary_length(column)).as_py() or 0) > limit:
            return None
        sample = column.slice(0, DISTINCT_SAMPLE)
        if pc.count_distinct(sample).as_py() > len(sample) // 2:  # ids, times: values as is
            values = _clean_array(column.combine_chunks())
            present |= values[1:] != None  # noqa: E711 (element-wise on an object array)
            columns.append(values)
            continue
        encoded = pc.dictionary_encode(column).combine_chunks()
        uniques = _clean_array(encoded.dictionary)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        present |= np.append(uniques != None, False)[indices[1:]]  # noqa: E711 (element-wise)
        columns.append(np.append(uniques, None)[indices])
    del table
    labels = _header_labels([column[0] if len(column) else None for column in columns])
    numbers = np.arange(1, len(present) + 1, dtype="int64")
    if present.all():
        data = dict(zip(labels, (column[1:] for column in columns), strict=True))
    else:
        numbers = numbers[present]
        data = {label: column[1:][present] for label, column in zip(labels, columns, strict=True)}
    frame = pd.DataFrame(data, columns=labels, dtype=object, copy=False)  # no 2-D copy
    frame[SOURCE_ROW] = numbers
    frame[READ_ERROR] = pd.Series(np.full(len(numbers), None, dtype=object), dtype=object)
    frame.attrs["blank_rows"] = int(len(present) - present.sum())
    frame.attrs["sheet"] = None
    return frame


def read_table(
    path: Path | str, encoding: str | None = None, sheet: str | None = None, header_row: int = 1
) -> pd.DataFrame:
    """Read a CSV/TSV, .xlsx, JSON Lines or Parquet export: str values (None for empty) plus
    `_source_row`.

    `frame.attrs["sheet"]` holds the sheet read (xlsx only); see the module doc for blank rows
    and `_read_error`. `sheet` and `header_row` apply to spreadsheets and CSV only.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise MappingError(f"{path}: old .xls files are not supported; save it as .xlsx or CSV.")
    sheet_name = None
    if suffix in EXCEL_SUFFIXES:
        records, sheet_name = xlsx_records(path, sheet)
    elif suffix in JSON_SUFFIXES:
        records, header_row = _json_records(path, encoding), 1
    elif suffix in PARQUET_SUFFIXES:
        records, header_row = _parquet_records(path), 1
    else:
        fast = _arrow_csv_frame(path, encoding) if header_row == 1 else None
        if fast is not None:
            return fast
        records = _csv_records(path, encoding)
    try:
        frame = _records_to_frame(records, header_row)
    except MappingError as error:
        if str(error).startswith(f"{path}: "):  # from the streamed records: names the file
            raise
        raise MappingError(f"{path}: {error}") from error
    frame.attrs["sheet"] = sheet_name
    return frame


# ---------------------------------------------------------------------------------------------
# Parsing values
# ---------------------------------------------------------------------------------------------


class Parsed(NamedTuple):
    """Canonical text (None where empty or bad) and a mask of non-empty unparsable values."""

    values: pd.Series
    bad: pd.Series


def by_distinct(parse: Callable[..., Parsed]) -> Callable[..., Parsed]:
    """Run a Series parser once per distinct value and spread the results back over the rows."""

    @functools.wraps(parse)
    def wrapper(series: pd.Series, *args: Any) -> Parsed:
        if len(series) > 2 * DISTINCT_SAMPLE:  # mostly distinct at the start: not worth it
            sample = series.iloc[:DISTINCT_SAMPLE]
            if sample.nunique(dropna=False) > DISTINCT_SAMPLE // 2:
                return parse(series, *args)
        codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
        if len(uniques) > len(series) // 2:
            return parse(series, *args)
        parsed = parse(pd.Series(uniques, dtype=object), *args)
        values = np.append(parsed.values.to_numpy(dtype=object), None)[codes]
        bad = np.append(parsed.bad.to_numpy(dtype=bool), False)[codes]
        return Parsed(
            pd.Series(values, index=series.index, dtype=object),
            pd.Series(bad, index=series.index, dtype=bool),
        )

    return wrapper


DATE_PATTERN = (
    r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
MONTH_PATTERN = r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})$"
NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
CURRENCY_NOISE = r"[\s,¥\\$€円]"


def _as_text(series: pd.Series) -> pd.Series:
    """Object series of stripped text, None for empty values."""
    text = series.astype(object)
    present = text.notna()
    text = text.where(~present, text[present].astype(str).str.strip()).astype(object)
    return text.where(present & (text != ""), None).astype(object)


def _nfkc(series: pd.Series) -> pd.Series:
    return series.str.normalize("NFKC").str.strip()


def _finish(values: pd.Series, ok: pd.Series, present: pd.Series) -> Parsed:
    values = values.astype(object).where(ok & present, None)
    return Parsed(values, present & ~ok)


@by_distinct
def parse_number_series(series: pd.Series) -> Parsed:
    """`¥1,200,000`, `1,200,000円`, `１２００`, `△500`, `(500)` -> `1200000`, `1200`, `-500`."""
    raw = _as_text(series)
    present = raw.notna()
    text = _nfkc(raw).str.replace("\u2212", "-", regex=False)
    negative = text.str.fullmatch(r"\(.*\)", na=False)
    text = text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    text = text.str.replace(CURRENCY_NOISE, "", regex=True)
    text = text.str.replace(r"^[△▲]", "-", regex=True)
    ok = text.str.fullmatch(NUMBER_PATTERN, na=False) & ~(
        negative & text.str.startswith(("-", "+"), na=False)
    )
    text = text.str.replace(r"^\+", "", regex=True)
    text = text.str.replace(r"^(-?)\.", r"\g<1>0.", regex=True)
    text = text.str.replace(r"\.$", "", regex=True)
    text = text.str.replace(r"^(-?)0+(?=\d)", r"\1", regex=True)
    text = text.where(~negative, "-" + text)
    return _finish(text, ok, present)


@by_distinct
def parse_integer_series(series: pd.Series) -> Parsed:
    """Whole numbers: as `parse_number_series`, and `8.0` -> `8`; `8.5` is bad."""
    number = parse_number_series(series)
    text = number.values
    whole = text.str.fullmatch(r"-?\d+(?:\.0*)?", na=False)
    text = text.str.replace(r"\.0*$", "", regex=True)
    present = number.bad | text.notna()
    return _finish(text, whole, present)


def _date_text(series: pd.Series) -> pd.Series:
    """NFKC, `2024年4月1日` -> `2024/4/1`, `20240401` -> `2024-04-01`, spaces collapsed."""
    text = _nfkc(series).str.replace(r"\s+", " ", regex=True)
    text = text.str.replace(
        r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", r"\1/\2/\3", regex=True
    )
    text = text.str.replace(r"(\d{4})\s*年\s*(\d{1,2})\s*月$", r"\1/\2", regex=True)
    return text.str.replace(r"^(\d{4})(\d{2})(\d{2})(?=$|[ T])", r"\1-\2-\3", regex=True)


DATE_FIELDS = ["year", "month", "day", "hour", "minute", "second"]
# The plain spellings (ASCII digits, one space, no offset: `2025/04/01 09:00[:05]`), which
# `_date_text` leaves as they are and DATE_PATTERN takes apart into the same fields.
PLAIN_DATE_PATTERN = (
    r"^(?P<year>[0-9]{4})[-/.](?P<month>[0-9]{1,2})[-/.](?P<day>[0-9]{1,2})"
    r"(?: (?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?)?$"
)


def _date_parts(text: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """The numeric date fields (as `pd.to_numeric` gives them) and the offset in minutes."""
    parts = text.str.extract(DATE_PATTERN)
    numbers = parts[DATE_FIELDS].apply(pd.to_numeric)
    tz = parts["tz"].str.replace("Z", "+00:00", regex=False).str.replace(":", "", regex=False)
    sign = tz.str[0].map({"+": 1, "-": -1})
    offset = sign * (pd.to_numeric(tz.str[1:3]) * 60 + pd.to_numeric(tz.str[3:5]))
    return numbers, offset


def _stamps(numbers: pd.DataFrame, offset: pd.Series) -> pd.Series:
    numbers = numbers.fillna({"hour": 0, "minute": 0, "second": 0})
    stamps = pd.to_datetime(numbers, errors="coerce")
    clock_ok = (numbers["hour"] < 24) & (numbers["minute"] < 60) & (numbers["second"] < 60)
    stamps = stamps.where(clock_ok)
    shift = pd.to_timedelta((TOKYO_OFFSET_MINUTES - offset).fillna(0), unit="m")
    return (stamps + shift).astype("datetime64[us]")


def _default_datetimes(text: pd.Series) -> pd.Series:
    """Parse the default spellings into naive Asia/Tokyo datetimes (NaT where not parsable)."""
    return _stamps(*_date_parts(text))


def _plain_date_fields(raw: pd.Series) -> dict[str, np.ndarray] | None:
    """Float fields (NaN where absent) of the values spelled as PLAIN_DATE_PATTERN (all NaN
    for the others), taken apart by pyarrow in C++; None when the values are not all text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arrow = pa.array(raw.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None
    groups = pc.extract_regex(arrow, PLAIN_DATE_PATTERN)
    fields = {}
    for name in DATE_FIELDS:
        field = pc.struct_field(groups, name)
        field = pc.if_else(pc.equal(field, ""), pa.scalar(None, pa.string()), field)
        fields[name] = pc.cast(field, pa.int64()).to_numpy(zero_copy_only=False).astype("float64")
    return fields


def _raw_default_datetimes(raw: pd.Series) -> pd.Series:
    """`_default_datetimes(_date_text(raw))` of stripped text (None for empty): the plain
    spellings are taken apart in one vectorised pass, only the others go through the regular
    expressions of `_date_text` and DATE_PATTERN; the fields then become datetimes together,
    so the result (dtypes included) is the one the whole column would give."""
    fields = _plain_date_fields(raw) if len(raw) else None
    if fields is None:
        return _default_datetimes(_date_text(raw))
    plain = ~np.isnan(fields["year"])
    other = raw.notna().to_numpy() & ~plain
    offset = pd.Series(np.nan, index=raw.index, dtype="float64")
    integer = dict.fromkeys(DATE_FIELDS, True)
    if other.any():
        try:
            numbers, other_offset = _date_parts(_date_text(raw[other]))
        except ValueError:  # e.g. non-ASCII digits: the whole column raises as it always did
            return _default_datetimes(_date_text(raw))
        offset[other] = other_offset.to_numpy(dtype="float64", na_value=np.nan)
        for name in DATE_FIELDS:
            integer[name] = pd.api.types.is_integer_dtype(numbers[name].dtype)
            fields[name][other] = numbers[name].to_numpy(dtype="float64", na_value=np.nan)
    columns = {}
    for name in DATE_FIELDS:
        values = fields[name]
        if integer[name] and not np.isnan(values).any():
            values = values.astype("int64")
        columns[name] = values
    return _stamps(pd.DataFrame(columns, index=raw.index), offset)


def _formatted_datetimes(text: pd.Series, formats: Sequence[str]) -> pd.Series:
    """Parse with declared strptime formats, first match wins; `%z` offsets go to Tokyo."""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = result.isna() & text.notna()
        if not todo.any():
            break
        if "%z" in fmt:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
            parsed = parsed.dt.tz_convert("Asia/Tokyo").dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        result.loc[todo] = parsed.astype("datetime64[us]")
    return result


def _datetimes(series: pd.Series, formats: Sequence[str] | None) -> tuple[pd.Series, pd.Series]:
    raw = _as_text(series)
    if formats:
        return _formatted_datetimes(_nfkc(raw), formats), raw.notna()
    return _raw_default_datetimes(raw), raw.notna()


@by_distinct
def parse_timestamp_series(series: pd.Series, formats: Sequence[str] | None = None) -> Parsed:
    """`2024/4/1 9:00`, `2024年4月1日`, ISO with offset... -> `YYYY-MM-DD HH:MM:SS` (Tokyo).

    With `formats` (strptime), only those are tried; without, the usual spellings are:
    `-`, `/` or `.` separated dates, `年月日`, `YYYYMMDD`, an optional `H:MM[:SS[.f]]` time and
    an optional offset (`Z`, `+09:00`), converted to Asia/Tokyo wall-clock time.
    """
    stamps, present = _datetimes(series, formats)
    return _finish(stamps.dt.strftime("%Y-%m-%d %H:%M:%S"), stamps.notna(), present)


@by_distinct
def parse_date_series(series: pd.Series, formats: Sequence[str] | None = None) -> Parsed:
    """Dates (a time part, e.g. Excel's `2025/5/13 0:00`, is dropped) -> `YYYY-MM-DD`."""
    stamps, present = _datetimes(series, formats)
    return _finish(stamps.dt.strftime("%Y-%m-%d"), stamps.notna(), present)


@by_distinct
def parse_month_series(series: pd.Series, formats: Sequence[str] | None = None) -> Parsed:
    """`2025/5`, `2025-05`, `2025年5月`, `202505` or any date -> `YYYY-MM`."""
    raw = _as_text(series)
    if formats:
        dates = parse_date_series(raw, formats)
        return dates._replace(values=dates.values.str[:7])
    text = _date_text(raw).str.replace(r"^(\d{4})(\d{2})$", r"\1-\2", regex=True)
    parts = text.str.extract(MONTH_PATTERN)
    month_only = pd.to_datetime(parts.apply(pd.to_numeric).assign(day=1), errors="coerce").astype(
        "datetime64[us]"
    )
    stamps = month_only.fillna(_default_datetimes(text))
    return _finish(stamps.dt.strftime("%Y-%m"), stamps.notna(), raw.notna())


@by_distinct
def parse_boolean_series(series: pd.Series) -> Parsed:
    """`true/false`, `1/0`, `yes/no`, `t/f`, `y/n` (any case, full-width too) -> `true`/`false`."""
    raw = _as_text(series)
    words = _nfkc(raw).str.lower()
    lookup = dict.fromkeys(TRUE_WORDS, "true") | dict.fromkeys(FALSE_WORDS, "false")
    values = words.map(lookup)
    return _finish(values, values.notna(), raw.notna())


def _scalar(parsed: Parsed, text: object, what: str) -> str:
    value = parsed.values.iloc[0]
    if value is None:
        reason = "empty" if not parsed.bad.iloc[0] else f"not {what}"
        raise ValueError(f"{text!r} is {reason}")
    return str(value)


def parse_number(text: str) -> str:
    """Canonical decimal text of a number as written in a Japanese sheet, else ValueError."""
    return _scalar(parse_number_series(pd.Series([text], dtype=object)), text, "a number")


def parse_integer(text: str) -> str:
    """Canonical text of a whole number, else ValueError."""
    return _scalar(parse_integer_series(pd.Series([text], dtype=object)), text, "a whole number")


def parse_date(text: str, formats: Sequence[str] | None = None) -> str:
    """`YYYY-MM-DD` for a date written any usual way (or in one of `formats`), else ValueError."""
    return _scalar(parse_date_series(pd.Series([text], dtype=object), formats), text, "a date")


def parse_timestamp(text: str, formats: Sequence[str] | None = None) -> str:
    """`YYYY-MM-DD HH:MM:SS` (Asia/Tokyo) for a timestamp, else ValueError."""
    parsed = parse_timestamp_series(pd.Series([text], dtype=object), formats)
    return _scalar(parsed, text, "a timestamp")


def parse_month(text: str, formats: Sequence[str] | None = None) -> str:
    """`YYYY-MM` for a month (or a date in it), else ValueError."""
    return _scalar(parse_month_series(pd.Series([text], dtype=object), formats), text, "a month")


def nfkc(text: str) -> str:
    """NFKC-normalised, stripped text (full-width letters and digits to ASCII)."""
    return unicodedata.normalize("NFKC", text).strip()
