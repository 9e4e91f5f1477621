"""Small edits of landing files, as a user's export would carry them (used by the corpus).

Every helper keeps the file's encoding and line ending unless told otherwise, so a case
changes exactly one thing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path


def newline_of(path: Path) -> str:
    """The line ending of the file's first line."""
    head = path.read_bytes()[:65536]
    return "\r\n" if b"\r\n" in head else "\n"


def read_rows(path: Path, encoding: str = "utf-8-sig") -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [dict(zip(header, row, strict=False)) for row in reader]


def read_header(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    """The header only (the rest of the file may hold bytes a case put there on purpose)."""
    first = path.read_bytes().split(b"\n", 1)[0].rstrip(b"\r").decode(encoding)
    return next(csv.reader([first]))


def _encode(text: str, encoding: str) -> bytes:
    return text.encode("utf-8" if encoding == "utf-8-sig" else encoding)


def render(header: list[str], records: list[dict], newline: str = "\n", quote_all=False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        lineterminator=newline,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    for record in records:
        writer.writerow([record.get(name, "") for name in header])
    return buffer.getvalue()


def append(path: Path, *records: dict, encoding: str = "utf-8") -> None:
    """Append records (missing columns empty) in the file's own column order and line ending."""
    header = read_header(path, encoding)
    data = path.read_bytes()
    newline = newline_of(path)
    if data and not data.endswith(b"\n"):
        data += newline.encode()
    quote_all = data.startswith(b'"')
    path.write_bytes(data + _encode(render(header, list(records), newline, quote_all), encoding))


def update(path: Path, key: str, value: str, changes: dict, encoding: str = "utf-8") -> None:
    """Change columns of the record(s) whose `key` column equals `value`."""
    header, rows = read_rows(path, encoding)
    matched = [row for row in rows if row.get(key) == value]
    assert matched, f"{path.name}: no row with {key} = {value}"
    for row in matched:
        row.update(changes)
    newline = newline_of(path)
    quote_all = path.read_bytes().startswith(b'"')
    text = render(header, [dict(zip(header, header, strict=True))], newline, quote_all)
    text += render(header, rows, newline, quote_all)
    path.write_bytes(_encode(text, encoding))


def write(path: Path, header: list[str], records: list[dict], encoding: str = "utf-8") -> None:
    text = render(header, [dict(zip(header, header, strict=True))]) + render(header, records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_encode(text, encoding))


def replace_text(path: Path, old: str, new: str, encoding: str = "utf-8", count: int = 1) -> None:
    text = path.read_bytes().decode(encoding)
    assert old in text, f"{path.name}: {old!r} not found"
    path.write_bytes(text.replace(old, new, count).encode(encoding))
