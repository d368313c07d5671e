"""Pseudonymised keys: HMAC-SHA256 of every source id, keyed by a secret kept outside the
repository (docs/data-dictionary.md: `patient_id` is a registry pseudonym). The mapping is never stored: whoever holds the secret recomputes a key on demand.

The HMAC input is `<scope>|<entity>:<source id>`, where the scope is the registry named by the
batch's manifest, so two registries never share pseudonyms, even under one secret, unless a
linkage key is configured for both (docs/privacy.md: the linkage key, key rotation).

The hash is computed in SQL (DuckDB's sha256 on bytes, HMAC built from it as in RFC 2104),
so a whole table is re-keyed set-based; `pseudonym()` is the same function in Python, used by
`oligo pseudonym`, `oligo opt-out` and to cross-check the SQL.

`secret_problem`, `checked_pseudonymizer` and `registry_scope` are pure (no environment): the
pipeline's configuration passes them what it read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.contract.tables import Column, Table

SECRET_ENV = "OLIGO_PSEUDONYM_SECRET"
SECRET_FILE_ENV = "OLIGO_PSEUDONYM_SECRET_FILE"
LINKAGE_KEY_ENV = "OLIGO_LINKAGE_KEY"
LINKAGE_REGISTRIES_ENV = "OLIGO_LINKAGE_REGISTRIES"
REGISTRY_ENV = "OLIGO_REGISTRY"  # the registry of batches whose manifest names none
UNNAMED_REGISTRY = "unnamed-registry"
# Announced, public, for synthetic demo data only: pseudonyms made with it protect nothing.
DEMO_SECRET = "oligo-demo-secret-not-for-real-data"
MIN_SECRET_BYTES = 32  # 256 bits, the HMAC-SHA256 output size (RFC 2104 section 3)
MIN_DISTINCT_BYTES = 8  # "aaaa...a" is 32 bytes long and guessable
MIN_LINKAGE_KEY_CHARS = 16
KEY_HEX_CHARS = 20  # 80 bits: collisions negligible for any registry size
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)


class MissingSecret(RuntimeError):
    """No usable pseudonymisation secret (absent, unreadable, or refused as weak)."""


class WeakSecret(MissingSecret):
    pass


class BadLinkage(MissingSecret):
    pass


@dataclass(frozen=True)
class Pseudonymizer:
    secret: bytes
    is_demo: bool = False
    scope: str = ""  # "registry:<name>" or "linkage:<key>"; empty only in tests and agreement

    def _padded_key(self) -> bytes:
        key = hashlib.sha256(self.secret).digest() if len(self.secret) > _BLOCK else self.secret
        return key.ljust(_BLOCK, b"\0")

    @property
    def inner_pad(self) -> bytes:
        return bytes(b ^ 0x36 for b in self._padded_key())

    @property
    def outer_pad(self) -> bytes:
        return bytes(b ^ 0x5C for b in self._padded_key())

    def scoped(self, scope: str) -> Pseudonymizer:
        return dataclasses.replace(self, scope=scope)

    def message_prefix(self, namespace: str) -> str:
        """What precedes `:<source id>` in the HMAC input."""
        return f"{self.scope}|{namespace}" if self.scope else namespace

    def pseudonym(self, namespace: str, source_id: str) -> str:
        message = f"{self.message_prefix(namespace)}:{source_id.strip()}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]


def secret_problem(secret: bytes, demo_mode: bool) -> str | None:
    """Why this secret is refused (one line naming what to do), or None when it is usable."""
    fix = (f"set {SECRET_ENV} or {SECRET_FILE_ENV} to a random secret of at least "
           f"{MIN_SECRET_BYTES} bytes, e.g. `openssl rand -hex 32`")
    if secret == DEMO_SECRET.encode() and not demo_mode:
        return f"the pseudonymisation secret is the public demo secret, refused outside demo mode: {fix}"
    if len(secret) < MIN_SECRET_BYTES:
        return f"the pseudonymisation secret is {len(secret)} bytes, too short: {fix}"
    if len(set(secret)) < MIN_DISTINCT_BYTES:
        return f"the pseudonymisation secret repeats too few characters to be random: {fix}"
    return None


def checked_pseudonymizer(secret: str | bytes | None, demo_mode: bool) -> Pseudonymizer:
    """The Pseudonymizer for a configured secret (surrounding blanks ignored), refusing a weak
    one; without a secret, the public demo secret in demo mode only."""
    value = (secret.encode() if isinstance(secret, str) else (secret or b"")).strip()
    if not value:
        if demo_mode:
            return Pseudonymizer(DEMO_SECRET.encode(), is_demo=True)
        raise MissingSecret(
            f"no pseudonymisation secret: set {SECRET_ENV} or {SECRET_FILE_ENV} (a file outside "
            "the repository), or run in demo mode")
    problem = secret_problem(value, demo_mode)
    if problem:
        raise WeakSecret(problem)
    return Pseudonymizer(value, is_demo=value == DEMO_SECRET.encode())


def configured_secret(env: Mapping[str, str] | None = None) -> bytes | None:
    """The secret from `OLIGO_PSEUDONYM_SECRET`, else the file named by
    `OLIGO_PSEUDONYM_SECRET_FILE`; None when neither is set."""
    env = os.environ if env is None else env
    value = env.get(SECRET_ENV, "")
    if value:
        return value.encode()
    file_name = env.get(SECRET_FILE_ENV, "")
    if not file_name:
        return None
    path = Path(file_name)
    if not path.is_file():
        raise MissingSecret(f"{SECRET_FILE_ENV} names a file that does not exist")
    content = path.read_bytes().strip()
    if not content:
        raise MissingSecret(f"the file named by {SECRET_FILE_ENV} is empty")
    return content


def load_pseudonymizer(demo: bool = False) -> Pseudonymizer:
    """The configured secret, checked; the demo secret only in demo mode (announced)."""
    pseudonymizer = checked_pseudonymizer(configured_secret(), demo)
    if pseudonymizer.is_demo:
        print("demo mode: pseudonyms use the public demo secret; never use it for real data",
              file=sys.stderr)
    return pseudonymizer


@dataclass(frozen=True)
class Linkage:
    """Registries that agreed to link their patients: their pseudonyms share one scope."""

    key: str
    registries: frozenset[str]


def normalise_registry(name: str) -> str:
    return " ".join(name.split()).lower()


def linkage_from(key: str | None, registries: str | None) -> Linkage | None:
    """The linkage configuration (`OLIGO_LINKAGE_KEY`, `OLIGO_LINKAGE_REGISTRIES`: names
    separated by commas), or None; a half or weak configuration is refused."""
    key = (key or "").strip()
    names = frozenset(normalise_registry(n) for n in (registries or "").split(",") if n.strip())
    if not key and not names:
        return None
    if len(key) < MIN_LINKAGE_KEY_CHARS or len(names) < 2:
        raise BadLinkage(
            f"a linkage needs {LINKAGE_KEY_ENV} (at least {MIN_LINKAGE_KEY_CHARS} characters) "
            f"and {LINKAGE_REGISTRIES_ENV} naming at least two registries, separated by commas")
    return Linkage(key, names)


def linkage_from_env(env: Mapping[str, str] | None = None) -> Linkage | None:
    env = os.environ if env is None else env
    return linkage_from(env.get(LINKAGE_KEY_ENV), env.get(LINKAGE_REGISTRIES_ENV))


def registry_scope(registry: str, linkage: Linkage | None = None) -> str:
    """The HMAC scope of a registry's ids: its own name, or the shared linkage key."""
    name = normalise_registry(registry)
    if not name:
        raise ValueError("a registry scope needs a registry name")
    if linkage is not None and name in linkage.registries:
        return f"linkage:{linkage.key}"
    return f"registry:{name}"


def batch_registry(manifest_registry: str | None, env: Mapping[str, str] | None = None
                   ) -> tuple[str, bool]:
    """The registry whose scope keys a batch, and whether the manifest named it: the manifest's
    `registry`, else `OLIGO_REGISTRY`, else the unnamed registry (the run warns)."""
    if manifest_registry and manifest_registry.strip():
        return manifest_registry, True
    env = os.environ if env is None else env
    return (env.get(REGISTRY_ENV) or UNNAMED_REGISTRY), False


def batch_pseudonymizer(pseudonymizer: Pseudonymizer, manifest_registry: str | None,
                        env: Mapping[str, str] | None = None) -> tuple[Pseudonymizer, str | None]:
    """The pseudonymizer scoped to the batch's registry (and linkage, if configured), and a
    warning to log when the manifest names no registry."""
    registry, named = batch_registry(manifest_registry, env)
    warning = None if named else (
        f"the batch's manifest names no registry: ids are keyed as registry '{registry}' "
        f"(set {REGISTRY_ENV}, or name the registry in manifest.json)")
    return pseudonymizer.scoped(registry_scope(registry, linkage_from_env(env))), warning


def id_namespace(table: Table, column: Column) -> str | None:
    """The entity whose ids this column holds, or None when it holds no id.

    Ids are the table's text key columns and every reference; a reference uses its target's
    namespace, so a lesion id keys the same in metastases, disease_events and targets."""
    if column.references is not None:
        return column.references.key_column
    if column.name in table.key and column.type == "text":
        return column.name
    return None


def id_columns(table: Table) -> dict[str, str]:
    """Column name -> namespace for every id column of the table."""
    return {c.name: ns for c in table.columns if (ns := id_namespace(table, c)) is not None}


def hmac_sql(value_sql: str, namespace_param: str) -> str:
    """SQL expression: truncated hex HMAC-SHA256 of `namespace:trim(value)`; NULL/blank stay
    NULL. Expects bound parameters `$inner_pad`, `$outer_pad` and `$<namespace_param>`."""
    message = f"encode(${namespace_param} || ':' || trim({value_sql}))"
    digest = f"sha256($outer_pad || unhex(sha256($inner_pad || {message})))"
    return (f"CASE WHEN nullif(trim({value_sql}), '') IS NULL THEN NULL "
            f"ELSE left({digest}, {KEY_HEX_CHARS}) END")
