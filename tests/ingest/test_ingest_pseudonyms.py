"""Pseudonymised keys: stable across runs and batches of one registry, disjoint between
registries (unless a linkage key joins them), different under another secret, the same in SQL
as in Python; weak secrets are refused with one line."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import duckdb
import pytest

from pipelines.cli import main
from pipelines.contract.dialects import DEFAULT
from pipelines.ingest.batch import open_batch
from pipelines.ingest.load import load_keyed_batch, load_raw_table
from pipelines.ingest.pseudonym import (
    DEMO_SECRET,
    KEY_HEX_CHARS,
    BadLinkage,
    MissingSecret,
    Pseudonymizer,
    WeakSecret,
    batch_pseudonymizer,
    checked_pseudonymizer,
    linkage_from,
    load_pseudonymizer,
    registry_scope,
    secret_problem,
)
from pipelines.synthetic.batch import BatchSpec, generate_batch
from tests.ingest.ingest_batches import clean_tables, write_batch

S1 = b"first-secret-for-tests-0123456789abcdef"
S2 = b"second-secret-for-tests-0123456789abcdef"


def _patient_keys(batch_dir, pseudonymizer: Pseudonymizer) -> list[str]:
    con = duckdb.connect()
    load_raw_table(con, open_batch(batch_dir, DEFAULT), "patients", pseudonymizer)
    return [r[0] for r in con.sql("SELECT patient_id FROM raw.patients ORDER BY _row_number"
                                  ).fetchall()]


def _batch_keys(batch_dir, secret: bytes, env=None) -> set[str]:
    """Every key the loader writes for a batch, scoped from its manifest as the asset does."""
    batch = open_batch(batch_dir, DEFAULT)
    keyed, _ = batch_pseudonymizer(Pseudonymizer(secret), batch.manifest.registry, env or {})
    con = duckdb.connect()
    load_keyed_batch(con, batch, keyed, [])
    tables = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name "
                                    "= 'raw' AND table_name <> 'opt_out_exclusions'").fetchall()]
    keys = set()
    for t in tables:
        for column in ("patient_id", "tumor_id", "lesion_id", "exam_id", "course_id"):
            if column in [c[0] for c in con.sql(f"DESCRIBE raw.{t}").fetchall()]:
                keys |= {r[0] for r in con.sql(f"SELECT {column} FROM raw.{t}").fetchall()
                         if r[0] is not None}
    return keys


def _as_registry(batch_dir, name: str):
    manifest = json.loads((batch_dir / "manifest.json").read_text())
    manifest["registry"] = name
    (batch_dir / "manifest.json").write_text(json.dumps(manifest))
    return batch_dir


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    return write_batch(tmp_path_factory.mktemp("b"), clean_tables())


def test_sql_keys_equal_the_python_hmac_with_the_registry_scope(batch_dir):
    keyed = Pseudonymizer(S1).scoped(registry_scope("TEST"))
    expected = [hmac.new(S1, f"registry:test|patient_id:{pid}".encode(), hashlib.sha256)
                .hexdigest()[:KEY_HEX_CHARS] for pid in ("P001", "P002", "P003")]
    assert _patient_keys(batch_dir, keyed) == expected
    assert [keyed.pseudonym("patient_id", p) for p in ("P001", "P002", "P003")] == expected


def test_two_registries_with_the_same_local_ids_get_disjoint_pseudonyms(tmp_path):
    """Two generated 2,000-patient batches with the same local ids, one secret."""
    batches = []
    for name in ("Registre Lyon", "Registry Leeds"):
        result = generate_batch(BatchSpec(2000, 5, tmp_path / name, dt.date(2026, 10, 31)))
        batches.append(_as_registry(result.batch_dir, name))
    patients = [
        {r[0] for r in duckdb.sql(f"SELECT patient_id FROM read_csv('{b}/patients.csv', "
                                  "all_varchar=true)").fetchall()} for b in batches]
    assert len(patients[0]) == 2000 and patients[0] == patients[1]
    keys_a, keys_b = _batch_keys(batches[0], S1), _batch_keys(batches[1], S1)
    assert len(keys_a) > 2000 and keys_a.isdisjoint(keys_b)


def test_a_linkage_key_configured_for_both_registries_links_them(tmp_path):
    a = _as_registry(write_batch(tmp_path / "a", clean_tables()), "Registre Lyon")
    b = _as_registry(write_batch(tmp_path / "b", clean_tables()), "Registry Leeds")
    c = _as_registry(write_batch(tmp_path / "c", clean_tables()), "Registro Milano")
    env = {"OLIGO_LINKAGE_KEY": "lyon-leeds-2026-agreement",
           "OLIGO_LINKAGE_REGISTRIES": "registre lyon, REGISTRY LEEDS"}
    assert _batch_keys(a, S1, env) == _batch_keys(b, S1, env)
    assert _batch_keys(c, S1, env).isdisjoint(_batch_keys(a, S1, env))
    assert _batch_keys(a, S1, env).isdisjoint(_batch_keys(a, S1))  # the linkage is its own scope


@pytest.mark.parametrize(("key", "registries"), [("short", "a,b"), ("long-enough-key-123", "a"),
                                                 ("", "a,b"), ("long-enough-key-123", "")])
def test_a_half_or_weak_linkage_is_refused(key, registries):
    with pytest.raises(BadLinkage, match="OLIGO_LINKAGE_KEY"):
        linkage_from(key, registries)


def test_keys_are_stable_across_runs_and_batches_of_one_registry(batch_dir, tmp_path):
    other = clean_tables()
    other["patients"] = list(reversed(other["patients"]))  # a later batch, another order
    later = write_batch(tmp_path, other, batch_id="2026-12-01")
    keyed = Pseudonymizer(S1).scoped(registry_scope("TEST"))
    assert _patient_keys(batch_dir, keyed) == _patient_keys(batch_dir, keyed)
    assert sorted(_patient_keys(later, keyed)) == sorted(_patient_keys(batch_dir, keyed))
    assert _batch_keys(later, S1) >= set(_patient_keys(batch_dir, keyed))


def test_keys_differ_under_another_secret(batch_dir):
    assert _batch_keys(batch_dir, S1).isdisjoint(_batch_keys(batch_dir, S2))


def test_a_batch_without_registry_is_keyed_as_the_configured_or_unnamed_registry():
    base = Pseudonymizer(S1)
    keyed, warning = batch_pseudonymizer(base, None, {"OLIGO_REGISTRY": "Registre Lyon"})
    assert keyed.scope == "registry:registre lyon" and "OLIGO_REGISTRY" in warning
    assert batch_pseudonymizer(base, None, {})[0].scope == "registry:unnamed-registry"
    assert batch_pseudonymizer(base, " Registre  LYON ", {}) == (keyed, None)


def test_surrounding_blanks_do_not_change_the_key():
    keys = Pseudonymizer(S1).scoped(registry_scope("TEST"))
    assert keys.pseudonym("patient_id", " P001 ") == keys.pseudonym("patient_id", "P001")
    assert keys.pseudonym("lesion_id", "P001") != keys.pseudonym("patient_id", "P001")


@pytest.mark.parametrize(("secret", "demo", "words"), [
    (b"a", False, "1 bytes, too short"),
    (b" ", False, "no pseudonymisation secret"),
    (b"s" * 31, False, "31 bytes, too short"),
    (b"ab" * 20, False, "too few characters"),
    (DEMO_SECRET.encode(), False, "public demo secret"),
    (b"short", True, "5 bytes, too short"),
])
def test_weak_secrets_are_refused_with_one_line(secret, demo, words):
    with pytest.raises(MissingSecret) as refused:
        checked_pseudonymizer(secret, demo)
    message = str(refused.value)
    assert words in message and "\n" not in message and "openssl rand" in message \
        or "demo mode" in message
    if secret.strip():
        assert isinstance(refused.value, WeakSecret)
        assert secret_problem(secret, demo) == message


def test_good_secrets_and_the_demo_secret_in_demo_mode_are_accepted():
    assert checked_pseudonymizer(S1, False).secret == S1
    assert checked_pseudonymizer(b"  " + S1 + b"\n", False).secret == S1
    assert checked_pseudonymizer(None, True).is_demo
    assert checked_pseudonymizer(DEMO_SECRET, True).is_demo
    assert secret_problem(S1, False) is None


def test_secret_from_env_or_file_and_refusal_without(monkeypatch, tmp_path):
    monkeypatch.delenv("OLIGO_PSEUDONYM_SECRET", raising=False)
    monkeypatch.delenv("OLIGO_PSEUDONYM_SECRET_FILE", raising=False)
    with pytest.raises(MissingSecret):
        load_pseudonymizer()
    assert load_pseudonymizer(demo=True).is_demo
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(S2 + b"\n")
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET_FILE", str(secret_file))
    assert load_pseudonymizer().secret == S2
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", S1.decode())
    assert load_pseudonymizer().secret == S1
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", "x")
    with pytest.raises(WeakSecret):
        load_pseudonymizer()


def test_pseudonym_command_prints_the_registry_keys(monkeypatch, capsys):
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", S1.decode())
    monkeypatch.delenv("OLIGO_REGISTRY", raising=False)
    assert main(["pseudonym", "P001", "P002", "--registry", "TEST"]) == 0
    keyed = Pseudonymizer(S1).scoped(registry_scope("TEST"))
    assert capsys.readouterr().out.splitlines() == [
        f"P00{i}\t{keyed.pseudonym('patient_id', f'P00{i}')}" for i in (1, 2)]
    assert main(["pseudonym", "P001"]) == 2
    assert "--registry" in capsys.readouterr().err
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", "s1")
    assert main(["pseudonym", "P001", "--registry", "TEST"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "too short" in err


def test_oligo_run_refuses_a_weak_secret_before_any_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OLIGO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OLIGO_PSEUDONYM_SECRET", DEMO_SECRET)
    assert main(["run"]) == 2
    out = capsys.readouterr().out.strip()
    assert out.startswith("oligo run: ") and "demo secret" in out and "\n" not in out
    assert not (tmp_path / "home").exists()  # nothing was written
