"""Guards for every file a run reads from the landing folder: symlinks, encodings, YAML, xlsx.

Shared by the canonical loader (orchestration/lib/loader.py) and the source converters
(orchestration/sources/). Each guard raises the caller's error class (LandingFileError or
MappingError) with a message naming the file, where in it, and what to do; none of them ever
echoes the content of a file outside the landing folder.

- `refuse_outside(path, root)`: a path (or a symlink) that resolves outside `root` is refused.
- `check_relative(value, where)`: a path or glob pattern from a YAML file must be relative and
  must not contain `..`.
- `scan_utf8(path)`: one streaming pass over a text file: lines, line endings, NUL bytes and
  every line holding bytes that are not UTF-8 (line, byte offset, byte).
- `decode_text(data, codec, path)`: decode or describe the first bad byte (line, offset).
- `load_yaml(path)`: YAML with a size limit and an expansion limit (a "billion laughs" file of
  600 bytes is refused instead of taking gigabytes).
- `check_xlsx(path)`: an .xlsx that is empty, not a zip archive or a zip bomb is refused.
- `file_sha256(path)`: size and SHA-256 of a file's content, streamed (the loader's and the
  run's input key's file identity).
"""

from __future__ import annotations

import codecs
import hashlib
import time
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath

import yaml

UTF8_BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 8 * 1024 * 1024
# Rows of a canonical file with bytes that are not UTF-8 are quarantined one by one up to this
# many (or 1 % of the lines, whichever is larger); beyond it the file is refused as a whole.
MAX_BAD_UTF8_LINES = 10
YAML_MAX_BYTES = 1024 * 1024
YAML_MAX_NODES = 100_000
XLSX_MAX_UNCOMPRESSED = 512 * 1024 * 1024
XLSX_MAX_RATIO = 200
XLSX_RATIO_FLOOR = 1024 * 1024  # members smaller than this are not ratio-checked

ENCODING_HINT = (
    "What to do: save the file as UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)'), or, for an "
    "export in Shift_JIS (cp932), put it in a source folder whose source.yml declares "
    "`encoding: cp932` (type: mapping; see docs/mapping_format.md)."
)


def refuse_outside(path: Path, root: Path, error: type[Exception], what: str = "file") -> Path:
    """`path` resolved; raise `error` when it (or a symlink on the way) leaves `root`."""
    resolved = path.resolve()
    base = root.resolve()
    if resolved != base and not resolved.is_relative_to(base):
        kind = "a symbolic link" if path.is_symlink() else "a path"
        raise error(
            f"{path}: {kind} to a {what} outside the landing folder {root}; refused (its content "
            "is not read). What to do: copy the file itself into the landing folder."
        )
    return resolved


def check_relative(value: str, where: str, error: type[Exception]) -> str:
    """A path or glob pattern from a YAML file: relative and without `..`, else `error`."""
    text = str(value)
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if (
        text.startswith(("/", "\\", "~"))
        or PureWindowsPath(text).drive
        or PurePosixPath(text).is_absolute()
        or ".." in parts
    ):
        raise error(
            f"{where}: {text!r} must be a path inside the source folder (relative, without "
            "'..' or a leading '/'); files outside the landing folder are never read."
        )
    return text


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadBytes:
    """The first byte that is not valid in the encoding, on one line of a file."""

    line: int  # 1-based physical line
    offset: int  # 0-based byte offset in the file
    byte: int

    def describe(self) -> str:
        return f"line {self.line}, byte offset {self.offset} (byte 0x{self.byte:02X})"


@dataclass
class Utf8Scan:
    """What one pass over a text file found (see `scan_utf8`)."""

    size: int = 0
    lines: int = 0
    has_bom: bool = False
    crlf: int = 0
    bare_lf: int = 0
    nul_lines: list[int] = field(default_factory=list)
    bad_lines: list[BadBytes] = field(default_factory=list)
    bad_samples: list[bytes] = field(default_factory=list)  # the first bad lines (4 KiB each)
    header: bytes = b""

    @property
    def mixed_line_endings(self) -> bool:
        return self.crlf > 0 and self.bare_lf > 0

    def bad_line(self, line: int) -> BadBytes | None:
        return next((b for b in self.bad_lines if b.line == line), None)


def _first_bad(data: bytes, codec: str) -> int | None:
    try:
        data.decode(codec)
    except UnicodeDecodeError as error:
        return error.start
    return None


VALIDATE_SLICE = 1024 * 1024


def _valid_utf8(data: bytes) -> bool:
    """True when `data` is valid UTF-8: ASCII at once, else decoded in 1 MiB slices (one big
    decode allocates the whole text and costs several times as much)."""
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), VALIDATE_SLICE):
            decoder.decode(view[start : start + VALIDATE_SLICE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _scan(path: Path) -> Utf8Scan:
    scan = Utf8Scan(size=path.stat().st_size)
    line = 1
    offset = 0
    carry = b""
    last = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(CHUNK_BYTES)
            data = carry + block
            if not data:
                break
            if block:  # keep the incomplete last line for the next block
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            if offset == 0:
                scan.has_bom = data.startswith(UTF8_BOM)
                scan.header = data.split(b"\n", 1)[0]
            # Counting a single byte is several times faster than counting b"\r\n".
            crlf = data.count(b"\r\n") if b"\r" in data else 0
            newlines = data.count(b"\n")
            scan.crlf += crlf
            scan.bare_lf += newlines - crlf
            if b"\x00" in data or not _valid_utf8(data):
                position = offset
                for number, text in enumerate(data.split(b"\n"), start=line):
                    if b"\x00" in text:
                        scan.nul_lines.append(number)
                    bad = _first_bad(text, "utf-8")
                    if bad is not None:
                        scan.bad_lines.append(BadBytes(number, position + bad, text[bad]))
                        if len(scan.bad_samples) < 20:
                            scan.bad_samples.append(text[:4096])
                    position += len(text) + 1
            line += newlines
            offset += len(data)
            last = data[-1:]
            if not block:
                break
    scan.lines = 0 if not offset else line - 1 if last == b"\n" else line
    return scan


@lru_cache(maxsize=64)
def _cached_scan(path: str, mtime_ns: int, size: int) -> Utf8Scan:
    return _scan(Path(path))


def scan_utf8(path: Path) -> Utf8Scan:
    """Lines, line endings, NUL bytes and non-UTF-8 lines of a file (cached per mtime/size)."""
    stat = path.stat()
    return _cached_scan(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


# A file modified less than this long ago is hashed again, never taken from the cache: it may
# be written again with the same size and mtime tick (as git's "racy" index entries).
RACY_NS = 2 * 10**9


@lru_cache(maxsize=4096)
def sha256_of(path: str, size: int | None = None, mtime_ns: int | None = None) -> str:
    """The SHA-256 of one version of a file, read in 1 MiB blocks (size and mtime are the cache
    key): a run that keys its inputs when it starts and loads the same files reads each once."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex digest) of the file's content; a file written in the last
    two seconds is hashed afresh rather than from the cache."""
    stat = path.stat()
    name = str(path.resolve())
    if time.time_ns() - stat.st_mtime_ns < RACY_NS:
        return stat.st_size, sha256_of.__wrapped__(name)
    return stat.st_size, sha256_of(name, stat.st_size, stat.st_mtime_ns)


def _japanese(text: str) -> bool:
    """Kana, kanji or full-width forms, and no private-use or C1 control characters."""
    if any("\ue000" <= c <= "\uf8ff" or "\x80" <= c <= "\x9f" for c in text):
        return False
    return any(
        "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" or "\uff01" <= c <= "\uff9f"
        for c in text
    )


def looks_like_cp932(scan: Utf8Scan) -> bool:
    """True when the lines that are not UTF-8 read as Japanese text in cp932 (Shift_JIS)."""
    if not scan.bad_samples:
        return False
    for sample in scan.bad_samples:
        try:
            text = codecs.getincrementaldecoder("cp932")().decode(sample, final=False)
        except UnicodeDecodeError:
            return False
        if not _japanese(text):
            return False
    return True


def bad_byte(data: bytes, codec: str) -> BadBytes | None:
    """Line and byte offset of the first byte of `data` that `codec` cannot decode."""
    # utf-8-sig reports positions after the BOM; the BOM is valid UTF-8, so plain utf-8 finds
    # the same byte at its offset in the file.
    position = _first_bad(data, "utf-8" if codec.replace("_", "-") == "utf-8-sig" else codec)
    if position is None:
        return None
    return BadBytes(data.count(b"\n", 0, position) + 1, position, data[position])


def decode_text(data: bytes, codec: str, path: Path, error: type[Exception], hint: str) -> str:
    """`data` decoded; else `error` naming the file, line, byte offset and the encoding tried."""
    try:
        return data.decode(codec)
    except LookupError as problem:
        raise error(f"{path}: unknown encoding {codec!r} ({problem}). {hint}") from problem
    except UnicodeDecodeError as problem:
        bad = bad_byte(data, codec)
        where = bad.describe() if bad else f"byte offset {problem.start}"
        raise error(
            f"{path}: cannot be read as {codec}: {where} is not valid {codec}. {hint}"
        ) from problem


# ---------------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------------


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """Nodes of the document with every alias expanded, computed without expanding it."""
    sizes: dict[int, int] = {}

    def size(current: yaml.Node, depth: int) -> int:
        key = id(current)
        if key in sizes:
            return sizes[key]
        if depth > 100:
            return limit + 1
        total = 1
        if isinstance(current, yaml.SequenceNode):
            for child in current.value:
                total += size(child, depth + 1)
        elif isinstance(current, yaml.MappingNode):
            for name, value in current.value:
                total += size(name, depth + 1) + size(value, depth + 1)
        total = min(total, limit + 1)
        sizes[key] = total
        return total

    return size(node, 0)


def load_yaml(path: Path, error: type[Exception], root: Path | None = None) -> object:
    """A YAML file read safely: at most 1 MiB, UTF-8, and at most 100,000 values once its
    aliases are expanded; `error` names the file and what is wrong."""
    if root is not None:
        refuse_outside(path, root, error, "YAML file")
    try:
        size = path.stat().st_size
        if size > YAML_MAX_BYTES:
            raise error(
                f"{path}: {size:,} bytes; a YAML configuration file may hold at most "
                f"{YAML_MAX_BYTES:,} bytes. Check that this is the right file."
            )
        data = path.read_bytes()
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem}).") from problem
    text = decode_text(
        data.removeprefix(UTF8_BOM), "utf-8", path, error, "Save the YAML file as UTF-8."
    )
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, YAML_MAX_NODES) > YAML_MAX_NODES:
            raise error(
                f"{path}: refused: its aliases (*name) expand to more than {YAML_MAX_NODES:,} "
                "values (a 'YAML bomb'). Write the values out instead of nesting aliases."
            )
        return loader.construct_document(node)
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML ({problem}).") from problem
    except RecursionError as problem:
        raise error(f"{path}: refused: nested too deeply.") from problem
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------------------------
# xlsx
# ---------------------------------------------------------------------------------------------


def check_xlsx(path: Path, error: type[Exception]) -> None:
    """Refuse an .xlsx that is empty, not a zip archive, or would unpack to too much."""
    size = path.stat().st_size
    save_hint = "Open it in Excel and save it again as .xlsx (or export CSV UTF-8)."
    if size == 0:
        raise error(f"{path}: the file is empty (0 bytes), so it is no workbook. {save_hint}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as problem:
        raise error(
            f"{path}: not a valid .xlsx workbook (the zip container is corrupt: {problem}). "
            f"{save_hint}"
        ) from problem
    total = sum(m.file_size for m in members)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise error(
            f"{path}: refused: it would unpack to {total:,} bytes (limit "
            f"{XLSX_MAX_UNCOMPRESSED:,}). Split the workbook or export CSV UTF-8."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > XLSX_RATIO_FLOOR and ratio > XLSX_MAX_RATIO:
            raise error(
                f"{path}: refused: part {member.filename} is compressed {ratio:,.0f} to 1 "
                f"(limit {XLSX_MAX_RATIO} to 1), as a zip bomb is. {save_hint}"
            )


def duplicate_columns(header: list[str]) -> list[str]:
    """`'Name' at positions 3, 7` for every column name (ignoring case) the header repeats."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header, 1):
        if name.strip():
            positions.setdefault(name.strip().lower(), []).append(i)
    return [
        f"'{header[at[0] - 1].strip()}' at positions {', '.join(map(str, at))}"
        for at in positions.values()
        if len(at) > 1
    ]


def duplicate_columns_message(path: Path, header: list[str]) -> str | None:
    """What to say about a header that repeats column names (ignoring case), or None."""
    duplicated = duplicate_columns(header)
    if not duplicated:
        return None
    return (
        f"{path}: duplicate column name(s) in the header (names are compared ignoring case): "
        f"{'; '.join(duplicated)}. Which one holds the data would be a guess. What to do: keep "
        "one column of each name (rename or delete the others), or export the file again."
    )


def refuse_duplicate_columns(path: Path, error: type[Exception], header: list[str]) -> None:
    """Raise `error` naming the file and every repeated column name with its positions."""
    message = duplicate_columns_message(path, header)
    if message:
        raise error(message)
