"""The hostile-delivery corpus: each case mutates a copy of one small generated batch and
declares, before anything runs, what the warehouse must do with it: `accepted`, `refused`
(with the batch rule and words of the message) or `quarantined` (with the row rule).

Cases are built by `build_case(name, batch_dir, outside_dir)`; `run_corpus.py` validates each
in a child process under a time limit and reports outcome, rules, messages, time and memory.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Path, Path], None]  # (batch folder, a folder outside it)
    outcome: str  # accepted | refused | quarantined
    rule: str | None = None  # the batch rule (refused) or row rule (quarantined)
    words: str = ""  # must appear in the message of that rule
    dialect: str = "default"  # also the pristine batch it starts from (its files' dialect)
    quarantine_rate: float = 1.0  # 1.0: the rate rule off, so one bad row is visible


def _manifest(batch: Path) -> dict:
    return json.loads((batch / "manifest.json").read_text())


def _write_manifest(batch: Path, data: dict) -> None:
    (batch / "manifest.json").write_text(json.dumps(data))


def _forget_checksums(batch: Path) -> None:
    """After a file is edited on purpose, the manifest's checksums would refuse it first."""
    data = _manifest(batch)
    data.pop("files", None)
    _write_manifest(batch, data)


def _edit(table: str, edit: Callable[[list[str]], list[str]]):
    def mutate(batch: Path, outside: Path) -> None:
        path = batch / f"{table}.csv"
        lines = path.read_text().split("\n")
        path.write_text("\n".join(edit(lines)))
        _forget_checksums(batch)
    return mutate


def _set_field(table: str, line: int, column: int, value: str):
    def edit(lines: list[str]) -> list[str]:
        fields = lines[line - 1].split(",")
        fields[column] = value
        lines[line - 1] = ",".join(fields)
        return lines
    return _edit(table, edit)


def _raw(table: str, transform: Callable[[bytes], bytes]):
    def mutate(batch: Path, outside: Path) -> None:
        path = batch / f"{table}.csv"
        path.write_bytes(transform(path.read_bytes()))
        _forget_checksums(batch)
    return mutate


def _replace_with(table: str, make: Callable[[Path, Path, Path], None]):
    """Replace `<table>.csv` by what `make(path, batch, outside)` creates there."""
    def mutate(batch: Path, outside: Path) -> None:
        path = batch / f"{table}.csv"
        path.unlink()
        make(path, batch, outside)
        _forget_checksums(batch)
    return mutate


def _fifo(path: Path, batch: Path, outside: Path) -> None:
    os.mkfifo(path)


def _link_outside(path: Path, batch: Path, outside: Path) -> None:
    target = outside / "elsewhere.csv"
    shutil.copy(batch.parent / "pristine" / path.name, target)
    path.symlink_to(target)


def _link_inside(path: Path, batch: Path, outside: Path) -> None:
    shutil.copy(batch.parent / "pristine" / path.name, batch / "copy.data")
    path.symlink_to(batch / "copy.data")


def _link_device(path: Path, batch: Path, outside: Path) -> None:
    path.symlink_to("/dev/zero")


def _device(path: Path, batch: Path, outside: Path) -> None:
    os.mknod(path, 0o600 | 0o020000, os.makedev(1, 5))  # a character device like /dev/zero


def _folder(path: Path, batch: Path, outside: Path) -> None:
    path.mkdir()


def _as_format(table: str, fmt: str):
    def mutate(batch: Path, outside: Path) -> None:
        import polars as pl

        csv = batch / f"{table}.csv"
        frame = pl.read_csv(csv, infer_schema_length=0)
        csv.unlink()
        if fmt == "parquet":
            frame.write_parquet(batch / f"{table}.parquet")
        else:
            frame.write_excel(batch / f"{table}.xlsx")
        _forget_checksums(batch)
    return mutate


def _xlsx_bomb(batch: Path, outside: Path) -> None:
    """A valid-looking XLSX whose sheet expands far beyond the cap (zeros compress ~1000x)."""
    (batch / "patients.csv").unlink()
    with zipfile.ZipFile(batch / "patients.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b"<row>" + b"0" * (1 << 20) + b"</row>"
            for _ in range(200):  # 200 MiB uncompressed, ~200 KiB on disk
                sheet.write(block)
    _forget_checksums(batch)


def _not_a_zip(batch: Path, outside: Path) -> None:
    (batch / "patients.csv").unlink()
    (batch / "patients.xlsx").write_bytes(b"this is not a spreadsheet\n" * 10)
    _forget_checksums(batch)


def _big_csv(batch: Path, outside: Path) -> None:
    """Above the per-file cap set for the corpus (OLIGO_MAX_FILE_MB=2)."""
    path = batch / "imaging.csv"
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    with path.open("ab") as out:
        while path.stat().st_size < 3 << 20:
            out.write(body)
    _forget_checksums(batch)


def _manifest_edit(edit: Callable[[dict], None]):
    def mutate(batch: Path, outside: Path) -> None:
        data = _manifest(batch)
        edit(data)
        _write_manifest(batch, data)
    return mutate


def _cutoff(value: str):
    return _manifest_edit(lambda m: m.update(data_cutoff_date=value))


def _manifest_file(name: str):
    return _manifest_edit(lambda m: m["files"].update({name: {"rows": 1}}))


def _manifest_replaced(make: Callable[[Path, Path, Path], None]):
    def mutate(batch: Path, outside: Path) -> None:
        path = batch / "manifest.json"
        path.unlink()
        make(path, batch, outside)
    return mutate


def _huge_manifest(path: Path, batch: Path, outside: Path) -> None:
    path.write_text(json.dumps({"contract_version": "1", "padding": "x" * (2 << 20)}))


def _drop_column(table: str, column: int):
    def edit(lines: list[str]) -> list[str]:
        return [",".join(f for i, f in enumerate(line.split(",")) if i != column) if line
                else line for line in lines]
    return _edit(table, edit)


def _add_file(name: str, content: bytes):
    def mutate(batch: Path, outside: Path) -> None:
        (batch / name).write_bytes(content)
    return mutate


def _duplicate_line(table: str, line: int):
    return _edit(table, lambda lines: lines[:line] + [lines[line - 1]] + lines[line:])


CASES: list[Case] = [
    # --- accepted: unusual but legal -----------------------------------------------------
    Case("pristine", lambda b, o: None, "accepted"),
    Case("no_manifest", lambda b, o: (b / "manifest.json").unlink(), "accepted"),
    Case("manifest_without_cutoff", _manifest_edit(lambda m: m.pop("data_cutoff_date")),
         "accepted"),
    Case("utf8_bom", _raw("patients", lambda d: b"\xef\xbb\xbf" + d), "accepted"),
    Case("crlf_line_ends", _raw("patients", lambda d: d.replace(b"\n", b"\r\n")), "accepted"),
    Case("hidden_file_ignored", _add_file(".DS_Store", b"\0\1junk"), "accepted"),
    Case("hidden_fifo_ignored", lambda b, o: os.mkfifo(b / ".pipe"), "accepted"),
    Case("generator_answer_key", _add_file("defects.csv", b"rule,table\n"), "accepted"),
    Case("sub_folder_ignored", lambda b, o: (b / "notes").mkdir(), "accepted"),
    Case("parquet_table", _as_format("patients", "parquet"), "accepted"),
    Case("xlsx_table", _as_format("mdt_decisions", "xlsx"), "accepted"),
    Case("cp1252_accented_text", _raw("patients", lambda d: d.replace(b"CTR03", b"CTR\xe9", 1)),
         "accepted", dialect="fr"),
    Case("symlink_inside_folder", _replace_with("patients", _link_inside), "refused",
         "unsafe_file", "symbolic link"),
    # --- refused: what is not a regular file inside the folder --------------------------
    Case("fifo_table", _replace_with("patients", _fifo), "refused", "unsafe_file",
         "named pipe"),
    Case("fifo_unknown_name", lambda b, o: os.mkfifo(b / "extra.csv"), "refused",
         "unsafe_file", "named pipe"),
    Case("fifo_manifest", _manifest_replaced(_fifo), "refused", "unsafe_file", "named pipe"),
    Case("symlink_outside", _replace_with("patients", _link_outside), "refused",
         "unsafe_file", "outside the batch folder"),
    Case("symlink_to_device", _replace_with("imaging", _link_device), "refused",
         "unsafe_file", "symbolic link"),
    Case("symlink_manifest", _manifest_replaced(_link_outside), "refused", "unsafe_file",
         "symbolic link"),
    Case("character_device", _replace_with("toxicities", _device), "refused", "unsafe_file",
         "a device"),
    Case("folder_named_like_table", _replace_with("patients", _folder), "refused",
         "unsafe_file", "a folder"),
    Case("manifest_names_parent_file", _manifest_file("../elsewhere.csv"), "refused",
         "unsafe_file", "outside the batch folder"),
    Case("manifest_names_absolute_path", _manifest_file("/etc/passwd"), "refused",
         "unsafe_file", "outside the batch folder"),
    # --- refused: size caps ---------------------------------------------------------------
    Case("csv_above_cap", _big_csv, "refused", "file_too_large", "above the cap"),
    Case("xlsx_bomb", _xlsx_bomb, "refused", "file_too_large", "uncompressed"),
    Case("manifest_above_cap", _manifest_replaced(_huge_manifest), "refused",
         "file_too_large", "above the cap"),
    # --- refused: unreadable, with line and byte offset ------------------------------------
    Case("invalid_utf8", _raw("patients", lambda d: d.replace(b"CTR04", b"CT\xff\xfe", 1)),
         "refused", "unreadable_file", "line 2, byte offset"),
    Case("invalid_utf8_in_header", _raw("patients", lambda d: b"\xff" + d), "refused",
         "unreadable_file", "line 1, byte offset 0"),
    Case("ragged_row", _edit("patients", lambda ls: ls[:2] + [ls[2] + ",extra"] + ls[3:]),
         "refused", "unreadable_file", "line 3, byte offset"),
    Case("unterminated_quote", _edit("patients", lambda ls: ls[:3] + ['"' + ls[3]] + ls[4:]),
         "refused", "unreadable_file", "line 4, byte offset"),
    Case("empty_file", _raw("patients", lambda d: b""), "refused", "unreadable_file",
         "empty file"),
    Case("xlsx_not_a_zip", _not_a_zip, "refused", "unreadable_file", ""),
    Case("parquet_garbage", lambda b, o: ((b / "toxicities.csv").unlink(),
                                          (b / "toxicities.parquet").write_bytes(b"PAR1 x"),
                                          _forget_checksums(b)),
         "refused", "unreadable_file", ""),
    Case("cp1252_undefined_byte", _raw("patients", lambda d: d.replace(b"CTR03", b"CTR\x81", 1)),
         "refused", "unreadable_file", "line 3, byte offset", dialect="fr"),
    # --- refused: manifest ---------------------------------------------------------------
    Case("manifest_not_json", _manifest_replaced(lambda p, b, o: p.write_text("{oops")),
         "refused", "manifest_invalid"),
    Case("manifest_batch_id_differs", _manifest_edit(lambda m: m.update(batch_id="other")),
         "refused", "manifest_batch_id"),
    Case("unknown_contract_version", _manifest_edit(lambda m: m.update(contract_version="9")),
         "refused", "unknown_contract_version"),
    Case("cutoff_far_future", _cutoff("9999-12-31"), "refused", "cutoff_implausible",
         "in the future"),
    Case("cutoff_before_events", _cutoff("2020-01-01"), "refused", "cutoff_implausible",
         "complete dates"),
    Case("one_exam_after_cutoff_is_a_row_matter", _edit("imaging", lambda ls: ls[:1] + [
        ",".join(f if i != 2 else "2026-11-15" for i, f in enumerate(ls[1].split(",")))]
        + ls[2:]), "accepted"),
    Case("checksum_mismatch_kept", lambda b, o: (b / "patients.csv").write_bytes(
        (b / "patients.csv").read_bytes().replace(b"CTR04", b"CTR05", 1)), "refused",
        "manifest_checksum"),
    Case("row_count_mismatch", _manifest_edit(
        lambda m: m["files"]["patients.csv"].update(rows=1)), "refused", "manifest_row_count"),
    Case("manifest_lists_missing_file", _manifest_file("absent.csv"), "refused",
         "manifest_file_missing"),
    # --- refused: files and headers --------------------------------------------------------
    Case("missing_required_file", lambda b, o: ((b / "patients.csv").unlink(),
                                                _forget_checksums(b)), "refused",
         "missing_required_file"),
    Case("unknown_file", _add_file("notes.txt", b"hello\n"), "refused", "unknown_file"),
    Case("duplicate_table_file", lambda b, o: shutil.copy(b / "toxicities.csv",
                                                          b / "toxicities.CSV"),
         "refused", "duplicate_table_file"),
    Case("missing_required_column", _drop_column("patients", 1), "refused",
         "missing_required_column"),
    Case("unknown_column", _edit("toxicities", lambda ls: [
        ls[0] + ",comment"] + [line + "," if line else line for line in ls[1:]]),
        "refused", "unknown_column"),
    Case("duplicate_column", _edit("toxicities", lambda ls: [
        ls[0] + "," + ls[0].split(",")[0]] + [line + ",x" if line else line
                                              for line in ls[1:]]),
        "refused", "duplicate_column"),
    Case("identifier_column", _edit("toxicities", lambda ls: [
        ls[0] + ",patient_name"] + [line + ",Jane Doe" if line else line for line in ls[1:]]),
        "refused", "direct_identifier"),
    # --- quarantined: row defects, the batch still loads ----------------------------------
    Case("bad_date", _set_field("patients", 2, 8, "2024-13-45"), "quarantined", "type_date"),
    Case("bad_integer", _set_field("patients", 2, 2, "nineteen"), "quarantined", "type_int"),
    Case("code_not_in_list", _set_field("patients", 2, 1, "Q"), "quarantined", "code_list"),
    Case("duplicate_key", _duplicate_line("patients", 2), "quarantined", "duplicate_key"),
    Case("dose_in_cgy", _set_field("radiotherapy", 2, 6, "5000"), "quarantined",
         "dose_in_cgy"),
    Case("orphan_reference", _set_field("metastases", 2, 1, "P9999999"), "quarantined",
         "orphan_reference"),
    Case("quarantine_rate_exceeded", _set_field("disease_events", 2, 0, ""), "refused",
         "quarantine_rate", quarantine_rate=0.01),
]


def build_case(case: Case, root: Path, pristine: Path) -> tuple[Path, Path]:
    """A fresh copy of the pristine batch under root/<case>/<batch id>, mutated."""
    home = root / case.name
    batch = home / pristine.name
    outside = home / "outside"
    outside.mkdir(parents=True)
    shutil.copytree(pristine, batch)
    shutil.copytree(pristine, home / "pristine")
    case.mutate(batch, outside)
    return batch, outside
