"""Every rule of the registry export contract, declared once with its disposition.

Source: the export contract (docs/data-dictionary.md), and the Kahn harmonized data-quality
framework (Kahn MG et al., eGEMs 2016;4(1):1244) for the categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Disposition(StrEnum):
    ROW_QUARANTINE = "row_quarantine"  # the row goes to ops.quarantine, children cascade
    CROSS_RECORD_WARNING = "cross_record_warning"  # rows load, check fails, patients flagged
    BATCH_REFUSAL = "batch_refusal"  # the whole batch is refused with one message


class Kahn(StrEnum):
    CONFORMANCE = "conformance"
    COMPLETENESS = "completeness"
    PLAUSIBILITY = "plausibility"


@dataclass(frozen=True)
class Rule:
    rule_id: str
    disposition: Disposition
    kahn_category: Kahn
    kahn_subcategory: str
    reason: str  # plain words for a data manager; never contains a value from the data


def _r(rule_id, disposition, category, subcategory, reason) -> Rule:
    return Rule(rule_id, Disposition(disposition), Kahn(category), subcategory, reason)


Q, W, B = "row_quarantine", "cross_record_warning", "batch_refusal"

RULES: dict[str, Rule] = {
    r.rule_id: r
    for r in [
        # --- row defects: quarantined -------------------------------------------------
        _r("required", Q, "completeness", "atemporal", "a required value is missing"),
        _r("required_if", Q, "completeness", "atemporal",
           "a value required by another column of the row is missing"),
        _r("type_int", Q, "conformance", "value", "not a whole number"),
        _r("type_decimal", Q, "conformance", "value",
           "not a number in the source's decimal format"),
        _r("type_date", Q, "conformance", "value",
           "not a valid calendar date in the source's date format"),
        _r("partial_date_not_allowed", Q, "conformance", "value",
           "a partial date (year or year-month) where a complete date is required"),
        _r("type_bool", Q, "conformance", "value",
           "not a yes/no value (true/false, yes/no, 1/0, oui/non)"),
        _r("code_list", Q, "conformance", "value", "value not in the contract's code list"),
        _r("code_pattern", Q, "conformance", "value",
           "value does not have the expected code format"),
        _r("range", Q, "plausibility", "atemporal", "value outside the allowed range"),
        _r("dose_in_cgy", Q, "plausibility", "atemporal",
           "total dose above 200 Gy: probably given in cGy, doses must be in Gy"),
        _r("end_before_start", Q, "plausibility", "temporal",
           "the end date is before the start date"),
        _r("duplicate_key", Q, "conformance", "relational",
           "the key is shared by several rows; every row sharing it is quarantined"),
        _r("orphan_reference", Q, "conformance", "relational",
           "refers to a row that does not exist in the batch"),
        _r("reference_other_patient", Q, "conformance", "relational",
           "refers to a row that belongs to another patient"),
        _r("parent_quarantined", Q, "conformance", "relational",
           "the row it depends on was quarantined"),
        # --- cross-record implausibility: loaded and flagged ------------------------------
        _r("death_before_diagnosis", W, "plausibility", "temporal",
           "death date before a diagnosis date"),
        _r("radiotherapy_before_diagnosis", W, "plausibility", "temporal",
           "radiotherapy started before the first diagnosis date"),
        _r("grade5_alive", W, "plausibility", "atemporal",
           "grade 5 (fatal) toxicity in a patient who is not recorded as dead"),
        _r("imaging_after_last_contact", W, "plausibility", "temporal",
           "imaging exam after the patient's last contact date"),
        _r("last_contact_after_death", W, "plausibility", "temporal",
           "last contact date after the death date"),
        _r("event_before_birth", W, "plausibility", "temporal",
           "a dated event before the patient's year of birth"),
        # --- batch defects: the batch is refused whole --------------------------------------
        _r("manifest_invalid", B, "conformance", "value", "manifest.json cannot be read"),
        _r("unknown_contract_version", B, "conformance", "value",
           "the manifest declares a contract version this warehouse does not know"),
        _r("manifest_batch_id", B, "conformance", "value",
           "the manifest's batch id differs from the batch folder name"),
        _r("manifest_row_count", B, "conformance", "computational",
           "a file's row count differs from the manifest"),
        _r("manifest_checksum", B, "conformance", "computational",
           "a file's sha256 differs from the manifest"),
        _r("manifest_file_missing", B, "completeness", "atemporal",
           "a file listed in the manifest is not in the batch"),
        _r("missing_required_file", B, "completeness", "atemporal",
           "a required table has no file in the batch"),
        _r("duplicate_table_file", B, "conformance", "relational",
           "two files deliver the same table"),
        _r("unknown_file", B, "conformance", "value",
           "a file does not belong to any table of the contract"),
        _r("unreadable_file", B, "conformance", "value",
           "a file cannot be read with the source's dialect"),
        _r("unsafe_file", B, "conformance", "value",
           "an entry of the batch is not a regular file inside the batch folder (symbolic "
           "link, named pipe, device) or a manifest name leaves the folder; nothing is read"),
        _r("file_too_large", B, "conformance", "value",
           "a file is above its size cap (for XLSX also uncompressed); it is not parsed"),
        _r("cutoff_implausible", B, "plausibility", "temporal",
           "the manifest's data cut-off is in the future or before more than 1 % of the "
           "batch's dates"),
        _r("missing_required_column", B, "completeness", "atemporal",
           "a required column is missing from the file's header"),
        _r("unknown_column", B, "conformance", "value",
           "a column is not part of the contract (nor a declared header alias)"),
        _r("duplicate_column", B, "conformance", "value", "a column appears twice in the header"),
        _r("direct_identifier", B, "conformance", "value",
           "a column holds or is named like a direct identifier (name, address, phone, "
           "e-mail, national id, full birth date); values are never shown"),
        _r("quarantine_rate", B, "plausibility", "atemporal",
           "too many rows of a table would be quarantined"),
    ]
}

QUARANTINE_RATE_THRESHOLD = 0.01  # default 1 % of a table (docs/data-dictionary.md)


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
