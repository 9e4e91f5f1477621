"""Arrow column builders and the canonical CSV writer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from orchestration.lib.canonical_schema import ENTITIES


def id_column(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded number; null where the number is negative."""
    numbers = np.asarray(numbers, dtype=np.int64)
    arr = pa.array(numbers, mask=numbers < 0).cast(pa.string())
    arr = pc.utf8_lpad(arr, width=width, padding="0")
    if not prefix:
        return arr
    return pc.binary_join_element_wise(pa.scalar(prefix), arr, "")


def label_column(values: Sequence[str], codes: np.ndarray) -> pa.Array:
    """Labels `values[code]`; null where the code is negative."""
    codes = np.asarray(codes, dtype=np.int64)
    mask = codes < 0
    return pa.array(list(values), pa.string()).take(pa.array(np.where(mask, 0, codes), mask=mask))


def timestamp_column(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s"), mask=mask)


def date_column(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=mask)


def int_column(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), mask=mask)


def const_column(value: str | None, n: int) -> pa.Array:
    return pa.array([value] * n, pa.string()) if n else pa.array([], pa.string())


def concat_strings(*parts: pa.Array | str) -> pa.Array:
    args = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, "")


class CsvSink:
    """Writes one canonical CSV file: header, then tables in the entity's column order."""

    _OPTIONS = pacsv.WriteOptions(
        include_header=False, batch_size=65_536, quoting_style="none", quoting_header="none"
    )

    def __init__(self, path: Path, entity: str) -> None:
        self.columns = ENTITIES[entity].column_names
        self.rows = 0
        self._fh = pa.OSFile(str(path), "wb")
        self._fh.write((",".join(self.columns) + "\n").encode("utf-8"))

    def write(self, columns: dict[str, pa.Array]) -> None:
        if list(columns) != self.columns:
            raise ValueError(f"columns {list(columns)} differ from canonical {self.columns}")
        table = pa.table(columns)
        if table.num_rows:
            pacsv.write_csv(table, self._fh, self._OPTIONS)
        self.rows += table.num_rows

    def close(self) -> None:
        self._fh.close()


def write_entity(landing: Path, entity: str, columns: dict[str, pa.Array]) -> int:
    sink = CsvSink(landing / f"{entity}.csv", entity)
    try:
        sink.write(columns)
    finally:
        sink.close()
    return sink.rows
