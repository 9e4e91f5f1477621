"""The declarative mapping engine on a Japanese SFA export (CP932) and an agency workbook."""

from __future__ import annotations

import csv
import logging
import shutil
from datetime import datetime, time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook

from orchestration.sources.base import MappingError
from orchestration.sources.mapping import SHIPPED_MAPPINGS, convert, load_mapping
from orchestration.sources.readers import (
    detect_encoding,
    parse_date,
    parse_integer,
    parse_month,
    parse_number,
    parse_timestamp,
    read_table,
)

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
MAPPED_JP = FIXTURES / "mapped_jp"
AGENCY = FIXTURES / "agency_xlsx"
ID_COLUMNS = {
    "user_id",
    "changed_by_id",
    "team_id",
    "agency_id",
    "account_id",
    "contact_id",
    "lead_id",
    "owner_id",
    "converted_opportunity_id",
    "opportunity_id",
    "activity_id",
}
OPPORTUNITY_HEADER = [
    "商談ID",
    "取引先ID",
    "所有者ID",
    "リードID",
    "作成日時",
    "完了予定日",
    "フェーズ",
    "金額",
    "商談種別",
    "失注理由",
]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]], encoding: str = "cp932") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return path


def jp_copy(tmp_path: Path, mapping_edit: tuple[str, str] | None = None) -> Path:
    """The mapped_jp fixture in tmp_path, with a local (optionally edited) copy of its mapping."""
    folder = shutil.copytree(MAPPED_JP, tmp_path / "jp_sfa")
    text = (SHIPPED_MAPPINGS / "jp_sfa_example.yml").read_text(encoding="utf-8")
    if mapping_edit is not None:
        assert mapping_edit[0] in text
        text = text.replace(*mapping_edit)
    (folder / "mapping.yml").write_text(text, encoding="utf-8")
    (folder / "source.yml").write_text("type: mapping\nmapping: mapping.yml\n", encoding="utf-8")
    return folder


def source_config(folder: Path) -> dict:
    """The folder's source.yml, as the registry reads it."""
    return yaml.safe_load((folder / "source.yml").read_text(encoding="utf-8"))


def local_config() -> dict:
    return {"type": "mapping", "mapping": "mapping.yml"}


def write_opportunities(folder: Path, rows: list[list[str]], encoding: str = "cp932") -> None:
    write_csv(folder / "商談一覧.csv", [OPPORTUNITY_HEADER, *rows], encoding)


def tiny_expected(entity: str, columns: list[str]) -> pd.DataFrame:
    """The tiny fixture's rows of an entity, with ids namespaced as jp_sfa ids."""
    with (TINY / f"{entity}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def value(column: str, text: str) -> str | None:
        if not text:
            return None
        return f"jp_sfa:{text}" if column in ID_COLUMNS else text

    data = {c: [value(c, row[c]) for row in rows] for c in columns}
    return pd.DataFrame(data, dtype=object)


def canonical_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["_source_file", "_source_row"]).astype(object)


def write_agency_workbook(path: Path) -> Path:
    """The agency report: a titled call sheet (labels in row 3) and a lead sheet."""
    workbook = Workbook()
    calls = workbook.active
    calls.title = "架電記録"
    calls.append(["架電記録（2025年4月）株式会社セールスブースト"])
    calls.append([])
    labels = ["No.", "日付", "時刻", "担当者ID", "企業名", "リードID", "結果", "通話時間(分)"]
    calls.append([*labels, "備考"])
    calls.append([1, datetime(2025, 4, 25), time(10, 0), "U4", "ガンマ株式会社", "L4", "接続", 5])
    calls.append([2, datetime(2025, 4, 28), time(10, 0), "U4", "ガンマ株式会社", "L4", "アポ獲得"])
    calls["H5"] = 6
    calls["I5"] = "アポ獲得"
    calls.append(
        [3, datetime(2025, 4, 28), "11:30", "U4", "株式会社イプシロン", "L9", "不在", "１"]
    )
    calls.append(["", None, "", None])  # blank rows left behind by the agency
    calls.append([" ", None, None])
    leads = workbook.create_sheet("アポ一覧")
    leads.append(
        ["リードID", "獲得日時", "企業名", "担当者ID", "ステータス", "商談化日時", "商談ID"]
    )
    created = datetime(2025, 4, 20, 9, 0)
    converted = datetime(2025, 5, 1, 10, 0)
    leads.append(["L4", created, "ガンマ株式会社", "U4", "商談化", converted, "O3"])
    leads.append(["L9", datetime(2025, 4, 28, 11, 30), "株式会社イプシロン", "U4", "アポ調整中"])
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def jp_conversion():
    return convert(MAPPED_JP, source_config(MAPPED_JP), "mapped_jp")


@pytest.fixture()
def agency_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "agency"
    folder.mkdir()
    shutil.copy(AGENCY / "source.yml", folder / "source.yml")
    write_agency_workbook(folder / "営業代行_活動報告_2025-04.xlsx")
    return folder


# ---------------------------------------------------------------------------------------------
# The CP932 Japanese SFA export: the same facts as the tiny canonical fixture
# ---------------------------------------------------------------------------------------------


def test_jp_export_converts_to_hand_worked_values(jp_conversion):
    assert jp_conversion.source_system == "jp_sfa"
    opps = jp_conversion.frames["opportunities"].set_index("opportunity_id")
    o1 = opps.loc["jp_sfa:O1"]
    assert o1["amount"] == "1200000"  # written `\1,200,000` (Excel's yen sign in CP932)
    assert o1["created_at"] == "2025-04-03 10:00:00"
    assert o1["opportunity_stage"] == "closed_won"
    assert (o1["is_closed"], o1["is_won"], o1["currency"]) == ("true", "true", "JPY")
    assert o1["account_id"] == "jp_sfa:A1" and o1["lead_id"] == "jp_sfa:L1"
    assert opps.loc["jp_sfa:O2", "amount"] == "2400000"  # 2,400,000円
    assert opps.loc["jp_sfa:O2", "close_date"] == "2025-05-20"  # 2025年5月20日
    assert opps.loc["jp_sfa:O2", "lost_reason"] == "price"
    assert opps.loc["jp_sfa:O3", "amount"] == "3600000"  # ￥３，６００，０００
    assert opps.loc["jp_sfa:O3", "close_date"] == "2025-06-30"  # 2025/6/30
    assert opps.loc["jp_sfa:O4", "lead_id"] is None
    assert opps.loc["jp_sfa:O4", "is_closed"] == "false"
    activities = jp_conversion.frames["activities"].set_index("activity_id")
    assert activities.loc["jp_sfa:T2", "duration_minutes"] == "8"  # full-width ８
    assert activities.loc["jp_sfa:T3", "duration_minutes"] is None
    users = jp_conversion.frames["users"].set_index("user_id")
    assert users.loc["jp_sfa:U3", "hired_date"] == "2022-10-01"  # 2022年10月1日
    accounts = jp_conversion.frames["accounts"].set_index("account_id")
    assert accounts.loc["jp_sfa:A1", "employee_band"] == "50-299"  # 50～299名 (CP932 tilde)


@pytest.mark.parametrize(
    "entity",
    [
        "agencies",
        "users",
        "accounts",
        "leads",
        "opportunities",
        "opportunity_stage_history",
        "activities",
    ],
)
def test_jp_export_carries_the_tiny_fixture_facts(jp_conversion, entity):
    frame = canonical_only(jp_conversion.frames[entity])
    expected = tiny_expected(entity, list(frame.columns))
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected, check_dtype=False)


def test_jp_export_has_only_mapped_entities(jp_conversion):
    assert set(jp_conversion.frames) == {
        "agencies",
        "users",
        "accounts",
        "leads",
        "opportunities",
        "opportunity_stage_history",
        "activities",
    }


def test_id_namespace_precedence(tmp_path):
    folder = jp_copy(tmp_path, ("# source_system: jp_sfa", "source_system: from_mapping"))
    ids = convert(folder, local_config(), "folder")
    assert ids.source_system == "from_mapping"
    assert ids.frames["opportunities"]["opportunity_id"].iloc[0] == "from_mapping:O1"
    config = {**local_config(), "source_system": "from_source_yml"}
    assert convert(folder, config, "folder").source_system == "from_source_yml"
    plain = jp_copy(tmp_path / "plain")
    assert convert(plain, local_config(), "folder").source_system == "folder"


def test_lineage_and_accounting(jp_conversion):
    opps = jp_conversion.frames["opportunities"]
    assert opps["_source_file"].str.endswith("商談一覧.csv").all()
    assert opps["_source_row"].tolist() == [1, 2, 3, 4]
    assert not jp_conversion.rejects
    accounts = {Path(a.source_file).name: a for a in jp_conversion.files}
    assert all(a.balanced and a.rows_rejected == 0 for a in accounts.values())
    # Blank trailing rows (2-3 per file) are not rows.
    assert accounts["担当者一覧.csv"].rows_read == 4
    assert accounts["リード一覧.csv"].rows_read == 5
    assert accounts["活動履歴.csv"].rows_read == 6


def test_read_table_cp932_crlf_quoted_newline_and_blank_rows():
    frame = read_table(MAPPED_JP / "取引先一覧.csv")  # no declared encoding
    assert list(frame.columns[:3]) == ["取引先ID", "取引先名", "法人番号"]
    assert frame.attrs["blank_rows"] == 1
    assert len(frame) == 4 and frame["_source_row"].tolist() == [1, 2, 3, 4]
    assert frame.loc[0, "備考"] == "本社移転予定\r\n(2026年, 大阪)"
    assert frame.loc[1, "備考"] is None
    assert frame["_read_error"].isna().all()


# ---------------------------------------------------------------------------------------------
# Encodings and value parsing
# ---------------------------------------------------------------------------------------------


def test_encoding_detection(tmp_path):
    rows = [["商談ID", "フェーズ"], ["O1", "受注"], ["O2", "失注"]]
    assert detect_encoding(write_csv(tmp_path / "a.csv", rows, "cp932").read_bytes()) == "cp932"
    bom = write_csv(tmp_path / "b.csv", rows, "utf-8-sig")
    assert detect_encoding(bom.read_bytes()) == "utf-8-sig"
    frame = read_table(bom)
    assert list(frame.columns[:2]) == ["商談ID", "フェーズ"]  # BOM stripped from the label
    assert read_table(write_csv(tmp_path / "c.csv", rows, "utf-8"))["フェーズ"].tolist() == [
        "受注",
        "失注",
    ]
    declared = read_table(tmp_path / "a.csv", encoding="shift_jis")  # read as cp932
    assert declared["フェーズ"].tolist() == ["受注", "失注"]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig"])
def test_conversion_without_declared_encoding(tmp_path, encoding):
    folder = jp_copy(tmp_path, ("encoding: cp932\n", ""))
    for path in folder.glob("*.csv"):
        text = path.read_bytes().decode("cp932")
        path.write_bytes(text.encode(encoding))
    conversion = convert(folder, local_config(), "jp_sfa")
    opps = conversion.frames["opportunities"].set_index("opportunity_id")
    assert opps.loc["jp_sfa:O1", "amount"] == "1200000"
    assert opps.loc["jp_sfa:O3", "amount"] == "3600000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¥1,200,000", "1200000"),
        ("\\1,200,000", "1200000"),
        ("1,200,000円", "1200000"),
        ("１２００", "1200"),
        ("￥３，６００，０００", "3600000"),
        ("－１，５００", "-1500"),
        ("△500", "-500"),
        ("▲1,000円", "-1000"),
        ("(2,000)", "-2000"),
        ("1200000.50", "1200000.50"),
        (" 0042 ", "42"),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["百万", "12a", "1.2.3", ""])
def test_parse_number_rejects(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_parse_integer():
    assert parse_integer("８") == "8"
    assert parse_integer("8.0") == "8"
    with pytest.raises(ValueError):
        parse_integer("8.5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024/04/01", "2024-04-01 00:00:00"),
        ("2024/4/1 9:00", "2024-04-01 09:00:00"),
        ("2024年4月1日", "2024-04-01 00:00:00"),
        ("2024年4月1日 9:05:07", "2024-04-01 09:05:07"),
        ("２０２４／０４／０１　０９：００", "2024-04-01 09:00:00"),
        ("2025-04-03T01:00:00Z", "2025-04-03 10:00:00"),
        ("2025-04-03 10:00:00+09:00", "2025-04-03 10:00:00"),
        ("20240401", "2024-04-01 00:00:00"),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected
    assert parse_date(text) == expected[:10]
    assert parse_month(text) == expected[:7]


def test_parse_dates_with_declared_formats_and_bad_dates():
    assert parse_timestamp("2024/4/1 9:00", ["%Y/%m/%d %H:%M"]) == "2024-04-01 09:00:00"
    assert parse_date("01.04.2024", ["%d.%m.%Y"]) == "2024-04-01"
    assert parse_month("2025年5月") == "2025-05"
    for bad in ("2024/02/30", "2024/04/01 25:00", "来月"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)
    with pytest.raises(ValueError):  # declared formats are the only ones tried
        parse_timestamp("2024-04-01 09:00", ["%Y/%m/%d %H:%M"])


# ---------------------------------------------------------------------------------------------
# The agency workbook (.xlsx)
# ---------------------------------------------------------------------------------------------


def test_agency_workbook(agency_folder):
    conversion = convert(agency_folder, source_config(agency_folder), "agency_xlsx")
    assert conversion.source_system == "agency_report"
    calls = conversion.frames["activities"]
    assert calls["activity_id"].tolist() == [
        "agency_report:2025-04-25-1",
        "agency_report:2025-04-28-2",
        "agency_report:2025-04-28-3",
    ]
    assert calls["activity_at"].tolist() == [
        "2025-04-25 10:00:00",
        "2025-04-28 10:00:00",
        "2025-04-28 11:30:00",
    ]
    assert calls["outcome"].tolist() == ["connected", "appointment_set", "no_answer"]
    assert calls["duration_minutes"].tolist() == ["5", "6", "1"]
    assert set(calls["activity_type"]) == {"call"}
    assert set(calls["owner_id"]) == {"jp_sfa:U4"}
    assert calls["lead_id"].tolist() == ["agency_report:L4"] * 2 + ["agency_report:L9"]
    assert calls["_source_file"].iloc[0].endswith("営業代行_活動報告_2025-04.xlsx#架電記録")
    assert calls["_source_row"].tolist() == [1, 2, 3]
    leads = conversion.frames["leads"].set_index("lead_id")
    l4 = leads.loc["agency_report:L4"]
    assert l4["created_at"] == "2025-04-20 09:00:00"
    assert (l4["lead_source"], l4["lead_status"]) == ("agency_outbound", "converted")
    assert (l4["agency_id"], l4["converted_opportunity_id"]) == ("jp_sfa:AG1", "jp_sfa:O3")
    assert l4["converted_at"] == "2025-05-01 10:00:00"
    assert leads.loc["agency_report:L9", "lead_status"] == "working"
    assert leads.loc["agency_report:L9", "converted_opportunity_id"] is None
    reads = {a.source_file.rsplit("#", 1)[1]: a.rows_read for a in conversion.files}
    assert reads == {"架電記録": 3, "アポ一覧": 2}  # the blank rows are not rows


def test_missing_sheet_names_the_sheets(agency_folder):
    mapping = (SHIPPED_MAPPINGS / "agency_report_example.yml").read_text(encoding="utf-8")
    (agency_folder / "m.yml").write_text(mapping.replace("アポ一覧", "アポ"), encoding="utf-8")
    with pytest.raises(MappingError, match=r"no sheet 'アポ'.*架電記録, アポ一覧"):
        convert(agency_folder, {"mapping": "m.yml"}, "x")


# ---------------------------------------------------------------------------------------------
# Wrong mappings: one MappingError naming the file, the column or value and what to add
# ---------------------------------------------------------------------------------------------


def test_unknown_column_label(tmp_path):
    folder = jp_copy(tmp_path, ("amount: 金額 ", "amount: 金額(税抜) "))
    with pytest.raises(MappingError) as error:
        convert(folder, local_config(), "jp_sfa")
    message = str(error.value)
    assert "商談一覧.csv" in message and "'金額(税抜)'" in message
    assert "Did you mean '金額'?" in message and "Labels in the file: 商談ID" in message


def test_unmapped_stage_values_are_listed_with_counts_and_yaml(tmp_path):
    folder = jp_copy(tmp_path)
    write_opportunities(
        folder,
        [
            ["O1", "A1", "U2", "L1", "2025/04/03 10:00", "2025/05/13", "保留", "1", "新規", ""],
            ["O2", "A2", "U2", "L2", "2025/04/10 10:00", "2025/05/20", "保留", "1", "新規", ""],
            ["O3", "A3", "U3", "L4", "2025/05/01 10:00", "2025/06/30", "検討中", "1", "新規", ""],
        ],
    )
    with pytest.raises(MappingError) as error:
        convert(folder, local_config(), "jp_sfa")
    message = str(error.value)
    assert "商談一覧.csv" in message and "フェーズ" in message
    assert "'保留' (2 rows), '検討中' (1 row)" in message
    assert "value map 'stage'" in message and "closed_won" in message  # the allowed values
    assert "value_maps:\n      stage:\n        保留: TODO\n        検討中: TODO" in message


def test_canonical_value_without_a_value_map(tmp_path):
    folder = jp_copy(tmp_path, ("role: {column: 役割, map: role}", "role: 役割"))
    with pytest.raises(MappingError) as error:
        convert(folder, local_config(), "jp_sfa")
    message = str(error.value)
    assert "担当者一覧.csv" in message and "'アポインター' (2 rows)" in message
    assert "Add `map: role`" in message and "SDR, AE, CS, MANAGER" in message


def test_missing_required_canonical_column(tmp_path):
    folder = jp_copy(tmp_path, ("      currency: {value: JPY}\n", ""))
    with pytest.raises(MappingError) as error:
        convert(folder, local_config(), "jp_sfa")
    message = str(error.value)
    assert "mapping.yml" in message and "files[3]" in message and "商談一覧*.csv" in message
    assert "opportunities" in message and "currency" in message
    assert "columns:\n      currency:\n        column: TODO" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("{column: 失注理由, map:", "{colum: 失注理由, map:"), r"files\[3\]\.columns\.lost_reason: unknown key 'colum'\. Did you mean 'column'"),
        (("entity: accounts", "entity: account"), r"files\[1\]\.entity: unknown entity 'account'\. Did you mean 'accounts'"),
        (("map: stage}", "map: stages}"), r"files\[3\]\.columns\.opportunity_stage\.map: no value map 'stages'"),
        (("受注: closed_won", "受注: closed_wonn"), r"value_maps\.stage\.受注: 'closed_wonn' is not a valid opportunities\.opportunity_stage"),
        (("amount: 金額 ", "amont: 金額 "), r"files\[3\]\.columns\.amont: not a column of opportunities\. Did you mean 'amount'"),
        (("currency: {value: JPY}", "currency: {value: JPY, format: '%Y'}"), r"format` applies to dates only"),
    ],
)  # fmt: skip
def test_yaml_errors_name_the_key(tmp_path, edit, expected):
    folder = jp_copy(tmp_path, edit)
    with pytest.raises(MappingError, match=expected):
        load_mapping(folder / "mapping.yml")


def test_unknown_mapping_name(tmp_path):
    with pytest.raises(MappingError, match="jp_sfa_example"):
        convert(tmp_path, {"mapping": "nope"}, "x")


# ---------------------------------------------------------------------------------------------
# Bad values are rejects; every row is accounted for
# ---------------------------------------------------------------------------------------------


def test_bad_values_become_rejects_and_accounting_balances(tmp_path):
    folder = jp_copy(tmp_path)
    write_opportunities(
        folder,
        [
            ["O1", "A1", "U2", "L1", "2025/04/03 10:00", "2025/05/13", "受注", "\\1,200,000", "新規", ""],
            ["O2", "A2", "U2", "L2", "2025/04/10 10:00", "2025/05/20", "失注", "二百万円", "新規", "価格"],
            ["O3", "A3", "U3", "L4", "2025/13/01 10:00", "2025/06/30", "受注", "3600000", "新規", ""],
            ["O4", "A4", "", "", "2025/05/15 10:00", "未定", "提案", "6000000", "新規", ""],
            ["O5", "A4", "U3", "", "2025/05/15 10:00", "", "提案", "1", "新規", "", "余分"],
            ["", "", "", "", "", "", "", "", "", ""],
        ],
    )  # fmt: skip
    conversion = convert(folder, local_config(), "jp_sfa")
    opps = conversion.frames["opportunities"]
    assert opps["opportunity_id"].tolist() == ["jp_sfa:O1"]
    account = next(a for a in conversion.files if a.source_file.endswith("商談一覧.csv"))
    assert (account.rows_read, account.rows_used, account.rows_rejected) == (5, 1, 4)
    assert all(a.balanced for a in conversion.files)
    rejects = {r.row_number: r for r in conversion.rejects}
    assert set(rejects) == {2, 3, 4, 5}
    assert (rejects[2].column, rejects[2].value) == ("amount", "二百万円")
    assert rejects[2].reason == "金額 (amount): not a number"
    assert (rejects[3].column, rejects[3].value) == ("created_at", "2025/13/01 10:00")
    assert "not a timestamp in format %Y/%m/%d %H:%M" in rejects[3].reason
    assert rejects[4].column == "owner_id" and "empty required value" in rejects[4].reason
    assert "完了予定日 (close_date): not a date" in rejects[4].reason  # every problem is listed
    assert rejects[5].reason == "row has 11 fields, the header has 10"
    assert all(r.source_file.endswith("商談一覧.csv") for r in rejects.values())


def test_unmatched_files_are_logged_and_ignored(tmp_path):
    folder = jp_copy(tmp_path)
    (folder / "メモ.txt").write_text("not an export", encoding="utf-8")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("orchestration.sources.mapping")
    logger.addHandler(handler)
    try:
        conversion = convert(folder, local_config(), "jp_sfa")
    finally:
        logger.removeHandler(handler)
    warned = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any("メモ.txt" in m for m in warned)
    ignored = [m.split(": ", 1)[0] for m in warned if "matched by no pattern" in m]
    assert ignored == [str(folder / "メモ.txt")]
    assert len(conversion.files) == 7
