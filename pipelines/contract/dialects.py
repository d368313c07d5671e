"""Dialect profiles: how a registry source writes its files (the export contract,
docs/data-dictionary.md). A dialect is configuration, never guessed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dialect:
    name: str
    delimiter: str = ","
    decimal_mark: str = "."
    date_format: str = "%Y-%m-%d"  # strftime form of a complete date
    partial_date_formats: tuple[str, ...] = ("%Y-%m", "%Y")  # accepted where partial is ok
    encoding: str = "utf-8"  # "utf-8" (BOM tolerated) or "cp1252"
    write_bom: bool = False  # what the generator writes
    header_aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> alias -> column
    true_values: tuple[str, ...] = ("true", "yes", "1", "oui", "t", "y")
    false_values: tuple[str, ...] = ("false", "no", "0", "non", "f", "n")

    def alias_map(self, table: str) -> dict[str, str]:
        return self.header_aliases.get(table, {})


DEFAULT = Dialect("default")

FRENCH = Dialect(
    "fr",
    delimiter=";",
    decimal_mark=",",
    date_format="%d/%m/%Y",
    partial_date_formats=("%m/%Y", "%Y"),
    encoding="cp1252",
    header_aliases={
        "patients": {
            "id_patient": "patient_id",
            "sexe": "sex",
            "annee_naissance": "birth_year",
            "statut_vital": "vital_status",
            "date_deces": "death_date",
            "date_derniere_nouvelle": "last_contact_date",
        },
        "primary_tumors": {"id_patient": "patient_id", "date_diagnostic": "diagnosis_date"},
    },
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (DEFAULT, FRENCH)}


def dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; known: {', '.join(DIALECTS)}") from None
