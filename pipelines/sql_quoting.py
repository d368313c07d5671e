"""Quoting for the few names and texts SQL cannot take as bound parameters (identifiers
from the contract, COMMENT ON texts, ATTACH paths). Values from data are always bound."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
