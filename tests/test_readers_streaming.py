"""Mapped exports read at speed (issue 11, item 5): a CSV with a declared encoding is parsed by
pyarrow (decoded in streaming blocks) and must give exactly the frame the csv-module reader
gives; files pyarrow cannot read as plain CSV fall back to the csv module, whose row numbers,
read errors and messages are kept. Expected values are written out by hand or come from the
csv-module path, which the other reader tests pin down."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.sources import readers
from orchestration.sources.base import Conversion, MappingError, write_conversion
from orchestration.sources.readers import READ_ERROR, SOURCE_ROW, read_table

CASES = {
    "plain": "a,b\r\n1,2\r\n 3 ,\u3000x\u3000\r\n",
    "all_empty_fields": "a,b\r\n1,2\r\n,\r\n3,4\r\n",
    "empty_line": "a,b\r\n1,2\r\n\r\n3,4\r\n",
    "quoted_newline_and_comma": 'a,b\r\n"x\r\ny",2\r\n3,"4,5"\r\n',
    "ragged": "a,b\r\n1,2,3\r\n4\r\n",
    "tab_separated": "a\tb\r\n1\t2\r\n",
    "duplicate_and_empty_labels": "a,a,,b\r\n1,2,3,4\r\n",
    "one_column_with_empty_line": "a\r\n1\r\n\r\n2\r\n",
    "quotes": 'a,b\r\n"x""y",z"q\r\n',
    "header_only": "a,b\r\n",
    "no_final_newline": "a,b\r\n1,2",
    "control_whitespace": "a,b\r\n\x1c1\x1f,2\r\n",
    "japanese": "活動ID,種別\r\nT1,電話\r\nT2,訪問・商談\r\n",
}


def _slow(path, encoding):
    return readers._records_to_frame(readers._csv_records(path, encoding), 1)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_csv_reader_gives_the_csv_module_frame(tmp_path, name, encoding):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(CASES[name].encode(encoding))
    slow = _slow(path, encoding)
    fast = readers._arrow_csv_frame(path, encoding)
    if fast is None:  # not plain: read_table uses the csv module
        assert name == "ragged"
        fast = read_table(path, encoding=encoding)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs["blank_rows"] == slow.attrs["blank_rows"]
    assert fast.index.equals(pd.RangeIndex(len(fast)))


def test_fast_reader_frame_by_hand(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("活動ID,種別\r\n T1 ,電話\r\n,\r\nT2,\r\n".encode("cp932"))
    frame = read_table(path, encoding="shift_jis")
    assert frame.attrs["blank_rows"] == 1
    assert frame[["活動ID", "種別", SOURCE_ROW, READ_ERROR]].to_dict("records") == [
        {"活動ID": "T1", "種別": "電話", SOURCE_ROW: 1, READ_ERROR: None},
        {"活動ID": "T2", "種別": None, SOURCE_ROW: 3, READ_ERROR: None},
    ]


def test_ragged_rows_keep_their_read_error_with_a_declared_encoding(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\r\n1,2,3\r\n4\r\n")
    frame = read_table(path, encoding="cp932")
    assert frame[READ_ERROR].tolist() == ["row has 3 fields, the header has 2", None]
    assert frame["b"].tolist() == ["2", None]


def test_bad_byte_with_a_declared_encoding_names_the_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("a,b\r\n1,電話\r\n".encode("cp932") + b"2,\xff\xff\r\n")
    with pytest.raises(MappingError) as raised:
        read_table(path, encoding="utf-8")
    assert str(raised.value).startswith(f"{path}: cannot be read as utf-8: line 2, byte offset 7")


def test_field_over_the_csv_limit_with_a_declared_encoding_names_the_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n3," + b"y" * 200_000 + b"\n")
    with pytest.raises(MappingError) as raised:
        read_table(path, encoding="cp932")
    assert str(raised.value).startswith(f"{path}: line 3: cannot be read as CSV")


def test_chunked_reader_numbers_rows_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    records = [["a", "b"], ["1", "x"], [], [" ", ""], ["2", "y", "extra"], ["3"]]
    frame = readers._records_to_frame(iter(records), 1)
    assert frame[SOURCE_ROW].tolist() == [1, 4, 5]
    assert frame["a"].tolist() == ["1", "2", "3"]
    assert frame[READ_ERROR].tolist() == [None, "row has 3 fields, the header has 2", None]
    assert frame.attrs["blank_rows"] == 2


def test_written_csv_is_the_text_pandas_writes(tmp_path):
    frame = pd.DataFrame(
        {
            "id": ["jp:1", None, 'say "hi"', "a,b", "改行\nあり", float("nan")],
            "amount": ["1200000", "", None, "1.5", "0", "-3"],
        },
        dtype=object,
    )
    frame["_source_row"] = pd.Series(range(1, 7), dtype="int64")
    conversion = Conversion("jp")
    conversion.frames["leads"] = frame
    (path,) = write_conversion(conversion, tmp_path).values()
    expected = tmp_path / "pandas.csv"
    frame.to_csv(expected, index=False)
    assert path.read_bytes() == expected.read_bytes()
