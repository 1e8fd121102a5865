"""The results store: every ``bench`` / ``eval`` result appended to one SQLite file (issue 12).

Default ``$EDGEOCR_HOME/results.db`` (``--store PATH`` elsewhere, ``--no-store`` to skip). SQLite
because it is in the standard library, is one file a team can copy, and gives real transactions:
a run and its samples are written together or not at all.

A run is keyed by what makes two numbers comparable (or not):

* ``bundle_sha256``: sha256 of the bundle's ``manifest.json`` (which build was measured);
* ``device_fingerprint``: hash of the device's model, ABI, cores, OS/Android version and SoC (or
  the host's CPU model, cores, arch and OS) — ``edgeocr compare`` only compares equal fingerprints;
* ``runtime_versions`` (numpy, onnxruntime, ...), ``threads``, and the time;
* eval runs also the dataset and task.

Samples kept per run: bench every timed run per stage and thread count (``samples_ms``); eval the
per-image counts (``per_sample``), so comparisons can use statistics, not just summaries.

Schema changes are numbered migrations (``PRAGMA user_version``), each applied in its own
transaction; a database newer than this edgeocr, a corrupt file or a lock held too long is one
clear :class:`StoreError`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from edgeocr.errors import EdgeOCRError

log = logging.getLogger(__name__)

STORE_NAME = "results.db"
LOCK_TIMEOUT_S = 10.0  # how long a writer waits for another process's transaction

# (version, statements). Never edit a released migration: append a new one.
MIGRATIONS: List[Tuple[int, List[str]]] = [
    (1, [
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created TEXT NOT NULL,
            kind TEXT NOT NULL,
            variant TEXT,
            bundle_sha256 TEXT,
            device_fingerprint TEXT NOT NULL,
            device TEXT NOT NULL,
            target TEXT NOT NULL,
            emulated INTEGER NOT NULL DEFAULT 0,
            runtime_versions TEXT NOT NULL,
            threads TEXT,
            dataset TEXT,
            task TEXT,
            batch TEXT,
            incomplete INTEGER NOT NULL DEFAULT 0,
            result TEXT NOT NULL)""",
        "CREATE INDEX runs_like ON runs (kind, device_fingerprint, variant, dataset, task)",
        """CREATE TABLE samples (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            threads INTEGER,
            vals TEXT NOT NULL)""",
        "CREATE INDEX samples_run ON samples (run_id)",
    ]),
    (2, [
        """CREATE TABLE tags (
            name TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            created TEXT NOT NULL)""",
    ]),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


class StoreError(EdgeOCRError):
    """The results database cannot be used (corrupt, locked, newer schema, unknown run)."""


def default_store() -> Path:
    """``$EDGEOCR_STORE`` if set, else ``$EDGEOCR_HOME/results.db``."""
    from edgeocr.home import edgeocr_home

    value = os.environ.get("EDGEOCR_STORE")
    return Path(value) if value else edgeocr_home() / STORE_NAME


def device_identity(result: Dict[str, Any]) -> Dict[str, Any]:
    """The facts that make two devices the same for comparisons (not the serial or the temperature)."""
    dev = result.get("device")
    if dev:
        return {"model": dev.get("model"), "manufacturer": dev.get("manufacturer"), "abi": dev.get("abi"),
                "machine": dev.get("machine"), "cores": dev.get("cores"), "soc": dev.get("soc"),
                "cpu_model": dev.get("cpu_model"), "os": dev.get("os"), "android": dev.get("android_version"),
                "emulated": bool(dev.get("emulated")), "cpu_mask": dev.get("cpu_mask")}
    m = result.get("machine", {})
    return {"host": m.get("hostname"), "cpu_model": m.get("cpu_model"), "cores": m.get("cpu_cores"),
            "arch": m.get("arch"), "os": m.get("os_release") or m.get("os"), "affinity": m.get("affinity")}


def fingerprint(identity: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Run:
    """One stored run (a row of ``runs``), with its tags."""

    id: int
    created: str
    kind: str
    variant: Optional[str]
    bundle_sha256: Optional[str]
    device_fingerprint: str
    device: Dict[str, Any]
    target: str
    emulated: bool
    runtime_versions: Dict[str, str]
    threads: Optional[str]
    dataset: Optional[str]
    task: Optional[str]
    batch: Optional[str]
    incomplete: bool
    tags: List[str]

    def describe(self) -> str:
        what = f"{self.dataset} {self.task}" if self.kind == "eval" else f"threads {self.threads}"
        return (f"#{self.id} {self.created} {self.kind} {self.variant} on {self.target}"
                + (" (emulated)" if self.emulated else "") + f", {what}"
                + (f" [{', '.join(self.tags)}]" if self.tags else "") + (" INCOMPLETE" if self.incomplete else ""))


class ResultsStore:
    """Append, list, tag and read back runs. Use as a context manager (closes the connection)."""

    def __init__(self, path: Optional[Path] = None, timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = Path(path) if path is not None else default_store()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise self._error(exc, "opening") from None

    # -- plumbing ---------------------------------------------------------------------------------
    def _error(self, exc: sqlite3.Error, doing: str) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreError(f"results store is locked by another process while {doing} (waited "
                              f"{LOCK_TIMEOUT_S:g} s); retry when it finishes, or pass --store OTHER.db / --no-store",
                              self.path)
        if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text
                                                        or "corrupt" in text):
            return StoreError(f"results store is not a valid SQLite database ({text}); move it aside (your "
                              "results stay in the --json files) or pass --store OTHER.db / --no-store", self.path)
        return StoreError(f"results store failed while {doing}: {text}", self.path)

    def _transaction(self) -> "_Tx":
        return _Tx(self)

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"results store has schema version {version}, newer than this edgeocr's "
                             f"{SCHEMA_VERSION}; upgrade edgeocr or pass --store OTHER.db", self.path)
        for number, statements in MIGRATIONS:
            if number <= version:
                continue
            with self._transaction():
                for sql in statements:
                    self.conn.execute(sql)
                self.conn.execute(f"PRAGMA user_version = {number}")
            log.info("results store %s migrated to schema %d", self.path, number)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------------
    def add(self, result: Dict[str, Any], batch: Optional[str] = None) -> int:
        """Append one bench/eval result (and its samples) in one transaction; returns the run id."""
        kind = result.get("kind")
        if kind not in ("bench", "eval"):
            raise StoreError(f"only bench/eval results can be stored, not {kind!r}")
        identity = device_identity(result)
        bundle = result.get("bundle", {})
        dev = result.get("device") or {}
        if kind == "bench":
            threads = ",".join(str(t) for t in (result.get("params") or {}).get("num_threads", []))
            samples = [(r["stage"], int(r["threads"]), json.dumps(r.get("samples_ms") or []))
                       for r in result.get("records", []) if r.get("stats")]
            dataset = task = None
        else:
            threads = str((result.get("runtime") or {}).get("threads"))
            samples = [("per_sample", None, json.dumps(result.get("per_sample") or []))]
            dataset, task = (result.get("dataset") or {}).get("name"), result.get("task")
        row = (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1000000:06d}Z",
               kind, bundle.get("variant"), bundle.get("manifest_sha256"), fingerprint(identity), json.dumps(identity),
               dev.get("target", "host"), int(bool(dev.get("emulated"))),
               json.dumps(result.get("versions") or {}, sort_keys=True), threads, dataset, task, batch,
               int(bool(result.get("incomplete"))), json.dumps(result))
        try:
            with self._transaction():
                cur = self.conn.execute(
                    "INSERT INTO runs (created, kind, variant, bundle_sha256, device_fingerprint, device, target, "
                    "emulated, runtime_versions, threads, dataset, task, batch, incomplete, result) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                run_id = int(cur.lastrowid)
                self.conn.executemany("INSERT INTO samples (run_id, name, threads, vals) VALUES (?, ?, ?, ?)",
                                      [(run_id, *s) for s in samples])
        except sqlite3.Error as exc:
            raise self._error(exc, "adding a run") from None
        return run_id

    def tag(self, run: str, name: str) -> Run:
        """Name a run (``release-1.2``); a tag names one run, re-tagging moves it."""
        if not name or name.isdigit() or name.startswith("#"):
            raise StoreError(f"tag {name!r}: use a name with a letter (numbers are run ids), e.g. release-1.2")
        target = self.get(run)
        try:
            with self._transaction():
                self.conn.execute("INSERT OR REPLACE INTO tags (name, run_id, created) VALUES (?, ?, ?)",
                                  (name, target.id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        except sqlite3.Error as exc:
            raise self._error(exc, "tagging") from None
        return self.get(str(target.id))

    # -- reading -----------------------------------------------------------------------------------
    _COLS = ("id, created, kind, variant, bundle_sha256, device_fingerprint, device, target, emulated, "
             "runtime_versions, threads, dataset, task, batch, incomplete")

    def _run(self, row: Sequence[Any]) -> Run:
        tags = [t for (t,) in self.conn.execute("SELECT name FROM tags WHERE run_id = ? ORDER BY name", (row[0],))]
        return Run(id=row[0], created=row[1], kind=row[2], variant=row[3], bundle_sha256=row[4],
                   device_fingerprint=row[5], device=json.loads(row[6]), target=row[7], emulated=bool(row[8]),
                   runtime_versions=json.loads(row[9]), threads=row[10], dataset=row[11], task=row[12],
                   batch=row[13], incomplete=bool(row[14]), tags=tags)

    def runs(self, kind: Optional[str] = None, variant: Optional[str] = None, limit: int = 50) -> List[Run]:
        """Newest first."""
        sql, args = f"SELECT {self._COLS} FROM runs WHERE 1=1", []  # type: Tuple[str, List[Any]]
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        if variant:
            sql += " AND variant = ?"
            args.append(variant)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        try:
            return [self._run(r) for r in self.conn.execute(sql, args).fetchall()]
        except sqlite3.Error as exc:
            raise self._error(exc, "listing runs") from None

    def get(self, ref: str) -> Run:
        """A run by id (``12`` or ``#12``) or by tag."""
        ref = str(ref).strip()
        try:
            if ref.lstrip("#").isdigit():
                row = self.conn.execute(f"SELECT {self._COLS} FROM runs WHERE id = ?", (int(ref.lstrip("#")),)).fetchone()
            else:
                row = self.conn.execute(f"SELECT {', '.join('r.' + c.strip() for c in self._COLS.split(','))} "
                                        "FROM runs r JOIN tags t ON t.run_id = r.id WHERE t.name = ?", (ref,)).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc, "reading a run") from None
        if row is None:
            raise StoreError(f"no run {ref!r} in the results store (see `edgeocr history`)", self.path)
        return self._run(row)

    def samples(self, run_id: int) -> List[Tuple[str, Optional[int], Any]]:
        try:
            rows = self.conn.execute("SELECT name, threads, vals FROM samples WHERE run_id = ?", (run_id,)).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "reading samples") from None
        return [(n, t, json.loads(v)) for n, t, v in rows]

    def result(self, run_id: int) -> Dict[str, Any]:
        row = self.conn.execute("SELECT result FROM runs WHERE id = ?", (run_id,)).fetchone()
        return json.loads(row[0])

    def latest_like(self, base: Run) -> Optional[Run]:
        """The newest other run measured like ``base``: same kind, device fingerprint, variant,
        dataset and task (the default candidate of ``edgeocr compare``)."""
        row = self.conn.execute(
            f"SELECT {self._COLS} FROM runs WHERE kind = ? AND device_fingerprint = ? AND variant IS ? "
            "AND dataset IS ? AND task IS ? AND id != ? ORDER BY id DESC LIMIT 1",
            (base.kind, base.device_fingerprint, base.variant, base.dataset, base.task, base.id)).fetchone()
        return self._run(row) if row else None


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error): all or nothing."""

    def __init__(self, store: ResultsStore) -> None:
        self.store = store

    def __enter__(self) -> None:
        self.store.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.store.conn.execute("COMMIT")
        else:
            self.store.conn.execute("ROLLBACK")


def store_results(results: Sequence[Dict[str, Any]], store: Optional[Path], enabled: bool = True) -> List[int]:
    """Append ``results`` (bench/eval dicts) as one batch; returns their run ids (none if disabled)."""
    if not enabled:
        return []
    batch = uuid.uuid4().hex[:12]
    with ResultsStore(store) as db:
        return [db.add(r, batch=batch) for r in results if r.get("kind") in ("bench", "eval")]

