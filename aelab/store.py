"""The workspace store: what a student trains, uploads and chooses, kept on disk under an unguessable token.

Layout under the store's root (``$AELAB_DATA_DIR``, else ``$XDG_DATA_HOME/aelab``, else
``~/.local/share/aelab``)::

    index.sqlite                      the index (SQLite in WAL mode)
    workspaces/<id>/<item>.safetensors  a model: an ordinary aelab checkpoint
    workspaces/<id>/<item>.npz          a dataset: images, labels, label_names
    workspaces/<id>/<item>.json         the item's title and kind (lets a lost index be rebuilt)

``<id>`` is the SHA-256 of the workspace's token, so neither the index nor a directory listing holds a
token anyone could use. Share links are stored hashed the same way.

Correctness across processes (several server replicas may share one root) comes from SQLite's locking and
atomic renames only: every change runs in one ``BEGIN IMMEDIATE`` transaction, and a file is written to a
temporary name, flushed and renamed into place inside that transaction. A process killed mid-save leaves at
most a temporary file and no index row; :meth:`Store.reconcile` (run when a store opens) removes both
leftovers and rows whose file is gone. Nothing is trusted because it is on disk: a model read back goes
through :func:`aelab.checkpoint.load_checkpoint` and a dataset through :func:`aelab.uploads.parse_npz`,
the checks an upload gets.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aelab.checkpoint import Checkpoint, load_checkpoint
from aelab.data import Dataset
from aelab.errors import AelabError
from aelab.files import write_atomic
from aelab.uploads import parse_npz

INDEX_NAME = "index.sqlite"
SCHEMA_VERSION = 1
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) returns
ITEM_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
SUFFIX = {"model": ".safetensors", "dataset": ".npz"}
MAX_LIGHT_BYTES = 64 * 1024  # one light-state value, as JSON
KEPT_OPEN = 4  # index connections a Store keeps open between transactions
MAX_TITLE = 200
TEMP_GRACE_S = 3600.0  # a temporary file older than this belongs to a save that died


class StoreError(AelabError):
    """The store refused a change (quota, full disk, a damaged index); the message says why."""


class QuotaExceeded(StoreError):
    """A workspace or the whole store would go over its limit."""


@dataclass(frozen=True)
class Limits:
    """What one workspace and the whole store may hold, and how long an unused workspace is kept."""

    max_models: int = 30
    max_datasets: int = 3
    max_workspace_bytes: int = 500 * 2**20
    max_store_bytes: int = 20 * 2**30
    idle_expiry_s: float = 90 * 24 * 3600.0


@dataclass(frozen=True)
class Workspace:
    """One workspace, by its id (the token's hash); the token itself is never kept here."""

    id: str


@dataclass(frozen=True)
class StoredItem:
    """A model or dataset in a workspace. ``name``: the item's id in its workspace (a dataset's name)."""

    name: str
    kind: str  # "model" or "dataset"
    title: str
    bytes: int
    created: float


def default_root() -> Path:
    """``$AELAB_DATA_DIR``, else ``$XDG_DATA_HOME/aelab``, else ``~/.local/share/aelab``."""
    if os.environ.get("AELAB_DATA_DIR"):
        return Path(os.environ["AELAB_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "aelab"


def new_token() -> str:
    """A fresh workspace token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _disk_message(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the server's disk is full, so this was not saved; everything saved before is kept"
    return f"the server could not save this ({error.strerror or error}); everything saved before is kept"


def dataset_bytes(dataset: Dataset) -> bytes:
    """A dataset as the .npz the store keeps (images as float32 in [0, 1], labels, label names)."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        images=np.asarray(dataset.images, dtype=np.float32),
        labels=np.asarray(dataset.labels, dtype=np.int64),
        label_names=np.asarray(dataset.label_names, dtype=str),
    )
    return buffer.getvalue()


class Store:
    """Workspaces under ``root``: models, datasets, light state and share links, indexed in SQLite.

    Each method takes a connection of its own for its transaction (from a few kept open: opening one cost
    milliseconds, and Explore writes its point on every gesture), so a Store may be used from any thread and
    any number of processes may open the same root.
    """

    def __init__(self, root: str | os.PathLike | None = None, limits: Limits | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.limits = limits or Limits()
        self.rebuilt = False  # True when opening found no usable index and rebuilt it from the files
        self.problem: str | None = None  # what was wrong with the index, when it was rebuilt
        self._idle: list[sqlite3.Connection] = []  # open connections no transaction holds (at most KEPT_OPEN)
        self._idle_lock = threading.Lock()
        (self.root / "workspaces").mkdir(parents=True, exist_ok=True)
        self._open_index()
        self.reconcile()

    # --- workspaces -------------------------------------------------------------------------------------------

    def open_workspace(self, token: str | None) -> tuple[str, Workspace, bool]:
        """(token, workspace, fresh): the workspace of ``token``, or a new one with a new token.

        A missing, malformed or unknown token gets a fresh workspace (``fresh`` True), never an error.
        """
        if token is not None and isinstance(token, str) and TOKEN_PATTERN.fullmatch(token):
            workspace = Workspace(_hash(token))
            with self._write() as db:
                row = db.execute("SELECT 1 FROM workspaces WHERE id = ?", (workspace.id,)).fetchone()
                if row is not None:
                    db.execute("UPDATE workspaces SET last_seen = ? WHERE id = ?", (time.time(), workspace.id))
                    return token, workspace, False
        token = new_token()
        workspace = Workspace(_hash(token))
        now = time.time()
        with self._write() as db:
            db.execute("INSERT INTO workspaces (id, created, last_seen) VALUES (?, ?, ?)", (workspace.id, now, now))
        self._folder(workspace).mkdir(parents=True, exist_ok=True)
        return token, workspace, True

    def delete_workspace(self, workspace: Workspace) -> None:
        """Remove the workspace, its files, light state and share links."""
        with self._write() as db:
            self._drop_rows(db, workspace.id)
            shutil.rmtree(self._folder(workspace), ignore_errors=True)

    def expire(self, now: float | None = None) -> int:
        """Delete workspaces unused for longer than ``limits.idle_expiry_s``; returns how many went."""
        cutoff = (now if now is not None else time.time()) - self.limits.idle_expiry_s
        with self._write() as db:
            idle = [row[0] for row in db.execute("SELECT id FROM workspaces WHERE last_seen < ?", (cutoff,))]
            for workspace_id in idle:
                self._drop_rows(db, workspace_id)
                shutil.rmtree(self.root / "workspaces" / workspace_id, ignore_errors=True)
        return len(idle)

    # --- items ------------------------------------------------------------------------------------------------

    def save_model(self, workspace: Workspace, data: bytes, title: str, origin: str = "m") -> StoredItem:
        """Check checkpoint ``data`` as an upload is checked, then keep it; raises BadCheckpoint or StoreError.

        The item's name is ``<origin>-<16 random hex digits>``; ``origin`` (lower-case letters) lets a
        caller tell its models apart later (the app: "session" for trained, "upload" for uploaded).
        """
        if not re.fullmatch(r"[a-z]{1,20}", origin):
            raise ValueError(f"origin must be 1 to 20 lower-case letters; got {origin!r}")
        load_checkpoint(data)
        return self._save(workspace, "model", f"{origin}-{secrets.token_hex(8)}", data, title)

    def save_dataset(self, workspace: Workspace, dataset: Dataset, title: str) -> StoredItem:
        """Keep ``dataset`` under its own name (an upload's ``upload-<hex>``); saving it again is a no-op."""
        if not ITEM_PATTERN.fullmatch(dataset.name):
            raise StoreError(
                f"a stored dataset's name must be lower-case letters, digits and '-'; got {dataset.name!r}"
            )
        existing = next((i for i in self.items(workspace, "dataset") if i.name == dataset.name), None)
        if existing is not None:
            return existing
        return self._save(workspace, "dataset", dataset.name, dataset_bytes(dataset), title)

    def items(self, workspace: Workspace, kind: str) -> list[StoredItem]:
        """The workspace's models or datasets, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT name, kind, title, bytes, created FROM items WHERE workspace = ? AND kind = ? "
                "ORDER BY created, name",
                (workspace.id, kind),
            ).fetchall()
        return [StoredItem(*row) for row in rows]

    def models(self, workspace: Workspace) -> list[StoredItem]:
        return self.items(workspace, "model")

    def datasets(self, workspace: Workspace) -> list[StoredItem]:
        return self.items(workspace, "dataset")

    def load_model(self, workspace: Workspace, name: str) -> Checkpoint:
        """The model ``name`` of this workspace, checked as an upload; raises BadCheckpoint when it is damaged."""
        return load_checkpoint(self._read_file(workspace, "model", name))

    def load_dataset(self, workspace: Workspace, name: str) -> Dataset:
        """The dataset ``name`` of this workspace, checked as an upload; raises UnsupportedFile when damaged."""
        item = self._item(workspace, "dataset", name)
        return parse_npz(self._read_file(workspace, "dataset", name), name, title=item.title)

    def delete_item(self, workspace: Workspace, name: str) -> None:
        """Remove one model or dataset (and the share links to it)."""
        with self._write() as db:
            row = db.execute("SELECT kind FROM items WHERE workspace = ? AND name = ?", (workspace.id, name)).fetchone()
            if row is None:
                return
            db.execute("DELETE FROM items WHERE workspace = ? AND name = ?", (workspace.id, name))
            db.execute("DELETE FROM shares WHERE workspace = ? AND item = ?", (workspace.id, name))
            for path in self._paths(workspace, row[0], name):
                path.unlink(missing_ok=True)

    def usage(self, workspace: Workspace) -> int:
        """Bytes this workspace's files take."""
        with self._read() as db:
            return int(
                db.execute("SELECT COALESCE(SUM(bytes), 0) FROM items WHERE workspace = ?", (workspace.id,)).fetchone()[
                    0
                ]
            )

    # --- light state ------------------------------------------------------------------------------------------

    def light(self, workspace: Workspace) -> dict[str, object]:
        """The workspace's small JSON values (language, choices, current point, drawings...), by key."""
        with self._read() as db:
            rows = db.execute("SELECT key, value FROM light WHERE workspace = ?", (workspace.id,)).fetchall()
        values = {}
        for key, value in rows:
            try:
                values[key] = json.loads(value)
            except json.JSONDecodeError:  # edited on disk: dropped, like any other value that fails its check
                continue
        return values

    def set_light(self, workspace: Workspace, key: str, value: object) -> None:
        """Keep one JSON value under ``key`` (None removes it); at most 64 KB as JSON."""
        if not isinstance(key, str) or not 1 <= len(key) <= 100:
            raise StoreError(f"a light-state key is a string of 1 to 100 characters; got {key!r}")
        with self._write() as db:
            if value is None:
                db.execute("DELETE FROM light WHERE workspace = ? AND key = ?", (workspace.id, key))
                return
            text = json.dumps(value, allow_nan=False)
            if len(text.encode()) > MAX_LIGHT_BYTES:
                raise QuotaExceeded(
                    f"{key!r} is too large to keep ({len(text.encode()):,} bytes; the limit is {MAX_LIGHT_BYTES:,})"
                )
            db.execute(
                "INSERT INTO light (workspace, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (workspace, key) DO UPDATE SET value = excluded.value",
                (workspace.id, key, text),
            )

    # --- share links ------------------------------------------------------------------------------------------

    def share(self, workspace: Workspace, name: str) -> str:
        """A new share id for model ``name``: whoever holds it can copy the model, nothing else."""
        self._item(workspace, "model", name)
        share_id = secrets.token_urlsafe(32)
        with self._write() as db:
            db.execute(
                "INSERT INTO shares (id, workspace, item, created) VALUES (?, ?, ?, ?)",
                (_hash(share_id), workspace.id, name, time.time()),
            )
        return share_id

    def copy_shared(self, share_id: str, into: Workspace) -> StoredItem | None:
        """Copy the model behind ``share_id`` into workspace ``into``; None when the link is unknown or gone.

        The copy is checked as an upload (a damaged original raises BadCheckpoint) and counts against
        ``into``'s quota. Opening the same link twice in one workspace returns the first copy.
        """
        if not isinstance(share_id, str) or not TOKEN_PATTERN.fullmatch(share_id):
            return None
        with self._read() as db:
            row = db.execute("SELECT workspace, item FROM shares WHERE id = ?", (_hash(share_id),)).fetchone()
            if row is None:
                return None
            title = db.execute("SELECT title FROM items WHERE workspace = ? AND name = ?", row).fetchone()
        if title is None:
            return None
        marker = f"share:{_hash(share_id)[:16]}"
        copied = self.light(into).get(marker)
        if isinstance(copied, str) and any(i.name == copied for i in self.models(into)):
            return next(i for i in self.models(into) if i.name == copied)
        source = Workspace(row[0])
        item = self.save_model(into, self._read_file(source, "model", row[1]), title[0])
        self.set_light(into, marker, item.name)
        return item

    # --- upkeep -----------------------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Make the index and the files agree: drop rows whose file is gone, files no row lists, stale temps."""
        now = time.time()
        with self._write() as db:
            known = set()
            for workspace_id, kind, name in db.execute("SELECT workspace, kind, name FROM items").fetchall():
                data, _meta = self._paths(Workspace(workspace_id), kind, name)
                if data.is_file():
                    known.add((workspace_id, name))
                else:
                    db.execute("DELETE FROM items WHERE workspace = ? AND name = ?", (workspace_id, name))
            workspaces = {row[0] for row in db.execute("SELECT id FROM workspaces")}
            for folder in (self.root / "workspaces").iterdir():
                if folder.name not in workspaces:
                    shutil.rmtree(folder, ignore_errors=True)
                    continue
                for path in folder.iterdir():
                    if path.name.startswith("."):
                        if path.name.endswith(".tmp") and now - path.stat().st_mtime > TEMP_GRACE_S:
                            path.unlink(missing_ok=True)
                        continue
                    if (folder.name, path.name.split(".")[0]) not in known:
                        path.unlink(missing_ok=True)  # a save that died before its row was committed

    # --- internals --------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: a kept connection serves one transaction at a time, from whichever thread.
        db = sqlite3.connect(self.root / INDEX_NAME, timeout=30.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 30000")
        # WAL with synchronous=NORMAL: a commit no longer waits for an fsync (the WAL is synced at checkpoints).
        # Still safe from corruption; a power cut may lose the last commits, never an app crash. Every gesture
        # on Explore writes its point here, and with a class at once the fsyncs queued behind SQLite's one
        # write lock (BENCHMARKS.md, classroom).
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one transaction: a kept one, or a new one. It is kept again afterwards only when
        the transaction ended cleanly; after an error it is closed."""
        with self._idle_lock:
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = self._connect()
        try:
            yield db
        except BaseException:
            db.close()
            raise
        if db.in_transaction:  # not ended by its owner: never hand it on
            db.close()
            return
        with self._idle_lock:
            if len(self._idle) < KEPT_OPEN:
                self._idle.append(db)
                return
        db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: it holds SQLite's write lock from the start, so checks and changes are atomic."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            yield db

    def _open_index(self) -> None:
        """Open the index, creating it (and rebuilding from the files) when it is missing or unreadable."""
        path = self.root / INDEX_NAME
        try:
            self._init_index()
        except sqlite3.DatabaseError as error:
            self.problem = f"the workspace index was damaged ({error}); it was rebuilt from the saved files"
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                damaged = path.with_name(path.name + suffix)
                if damaged.exists():
                    os.replace(damaged, path.with_name(f"{path.name}{suffix}.damaged-{stamp}"))
            try:
                self._init_index()
            except sqlite3.DatabaseError as again:
                raise StoreError(f"the workspace index at {path} cannot be opened or rebuilt: {again}") from None

    def _init_index(self) -> None:
        db = self._connect()
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            built = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if built is None:
                for statement in _SCHEMA:
                    db.execute(statement)
                self.rebuilt = self._rebuild(db)
                db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            else:
                db.execute("SELECT COUNT(*) FROM items").fetchone()  # a damaged file fails here
                db.execute("SELECT COUNT(*) FROM workspaces").fetchone()
            db.execute("COMMIT")
        finally:
            db.close()

    def _rebuild(self, db: sqlite3.Connection) -> bool:
        """Index the files already under the root (a new index over an existing store). True if any were found."""
        found = False
        for folder in sorted((self.root / "workspaces").iterdir()):
            if not re.fullmatch(r"[0-9a-f]{64}", folder.name) or not folder.is_dir():
                continue
            found = True
            created = folder.stat().st_mtime
            db.execute(
                "INSERT INTO workspaces (id, created, last_seen) VALUES (?, ?, ?)", (folder.name, created, time.time())
            )
            for meta_path in folder.glob("*.json"):
                try:
                    meta = json.loads(meta_path.read_text())
                    kind, title = meta["kind"], str(meta["title"])[:MAX_TITLE]
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                name = meta_path.name[: -len(".json")]
                data = folder / f"{name}{SUFFIX.get(kind, '.missing')}"
                if kind in SUFFIX and ITEM_PATTERN.fullmatch(name) and data.is_file():
                    db.execute(
                        "INSERT INTO items (workspace, name, kind, title, bytes, created) VALUES (?, ?, ?, ?, ?, ?)",
                        (folder.name, name, kind, title, data.stat().st_size, data.stat().st_mtime),
                    )
        return found

    def _folder(self, workspace: Workspace) -> Path:
        return self.root / "workspaces" / workspace.id

    def _paths(self, workspace: Workspace, kind: str, name: str) -> tuple[Path, Path]:
        folder = self._folder(workspace)
        return folder / f"{name}{SUFFIX[kind]}", folder / f"{name}.json"

    def _item(self, workspace: Workspace, kind: str, name: str) -> StoredItem:
        item = next((i for i in self.items(workspace, kind) if i.name == name), None)
        if item is None:
            raise StoreError(f"this workspace has no {kind} named {name!r}")
        return item

    def _read_file(self, workspace: Workspace, kind: str, name: str) -> bytes:
        self._item(workspace, kind, name)
        path = self._paths(workspace, kind, name)[0]
        try:
            return path.read_bytes()
        except OSError as error:
            raise StoreError(f"the saved {kind} {name!r} cannot be read ({error.strerror or error})") from None

    def _save(self, workspace: Workspace, kind: str, name: str, data: bytes, title: str) -> StoredItem:
        title = str(title)[:MAX_TITLE]
        limits = self.limits
        with self._write() as db:
            if db.execute("SELECT 1 FROM workspaces WHERE id = ?", (workspace.id,)).fetchone() is None:
                raise StoreError("this workspace no longer exists (it was deleted or expired); reload the page")
            count = db.execute(
                "SELECT COUNT(*) FROM items WHERE workspace = ? AND kind = ?", (workspace.id, kind)
            ).fetchone()[0]
            everything = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM items").fetchone()[0]
            mine = db.execute(
                "SELECT COALESCE(SUM(bytes), 0) FROM items WHERE workspace = ?", (workspace.id,)
            ).fetchone()[0]
            most = limits.max_models if kind == "model" else limits.max_datasets
            if count >= most:
                raise QuotaExceeded(
                    f"this workspace already holds {count} {kind}s, the most it may keep; delete one to make room"
                )
            if mine + len(data) > limits.max_workspace_bytes:
                raise QuotaExceeded(
                    f"this would take the workspace to {(mine + len(data)) / 2**20:.1f} MB; its limit is "
                    f"{limits.max_workspace_bytes / 2**20:.0f} MB. Delete something to make room"
                )
            if everything + len(data) > limits.max_store_bytes:
                raise QuotaExceeded(
                    "the server's store is full, so this was not saved; ask whoever runs it to make room"
                )
            now = time.time()
            db.execute(
                "INSERT INTO items (workspace, name, kind, title, bytes, created) VALUES (?, ?, ?, ?, ?, ?)",
                (workspace.id, name, kind, title, len(data), now),
            )
            db.execute("UPDATE workspaces SET last_seen = ? WHERE id = ?", (now, workspace.id))
            data_path, meta_path = self._paths(workspace, kind, name)
            try:
                data_path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(meta_path, json.dumps({"kind": kind, "title": title}).encode())
                write_atomic(data_path, data)
            except OSError as error:
                meta_path.unlink(missing_ok=True)
                raise StoreError(_disk_message(error)) from None
        return StoredItem(name, kind, title, len(data), now)

    @staticmethod
    def _drop_rows(db: sqlite3.Connection, workspace_id: str) -> None:
        for table, column in (
            ("items", "workspace"),
            ("light", "workspace"),
            ("shares", "workspace"),
            ("workspaces", "id"),
        ):
            db.execute(
                f"DELETE FROM {table} WHERE {column} = ?", (workspace_id,)
            )  # table and column come from the tuple above


_SCHEMA = (
    "CREATE TABLE workspaces (id TEXT PRIMARY KEY, created REAL NOT NULL, last_seen REAL NOT NULL)",
    "CREATE TABLE items (workspace TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, "
    "bytes INTEGER NOT NULL, created REAL NOT NULL, PRIMARY KEY (workspace, name))",
    "CREATE TABLE light (workspace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (workspace, key))",
    "CREATE TABLE shares (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, item TEXT NOT NULL, created REAL NOT NULL)",
)
