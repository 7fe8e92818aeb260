"""The workspace store: tokens, models, datasets, light state, quotas, expiry, share links, and its faults."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from aelab.data import Dataset
from aelab.errors import BadCheckpoint, UnsupportedFile
from aelab.recipes import TrainedModel
from aelab.store import INDEX_NAME, KEPT_OPEN, Limits, QuotaExceeded, Store, StoreError, Workspace, dataset_bytes

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture(scope="module")
def model_bytes(trained_ae: TrainedModel) -> bytes:
    return trained_ae.checkpoint.to_bytes()


def upload_dataset(tiny: Dataset) -> Dataset:
    """``tiny`` as an upload would be named."""
    from aelab.data import make_dataset

    return make_dataset("upload-0123456789ab", tiny.images, tiny.labels, tiny.label_names, title="blobs.npz")


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# --- tokens and workspaces -------------------------------------------------------------------------------------


def test_a_token_brings_back_the_same_workspace_and_the_index_never_holds_it(store: Store) -> None:
    token, workspace, fresh = store.open_workspace(None)
    assert fresh and len(token) == 43
    again, same, fresh_again = store.open_workspace(token)
    assert (again, same, fresh_again) == (token, workspace, False)
    assert token not in repr(workspace)
    raw = b"".join(p.read_bytes() for p in store.root.rglob("*") if p.is_file())
    assert token.encode() not in raw
    assert all(token not in p.name for p in store.root.rglob("*"))


@pytest.mark.parametrize("bad", ["", "short", "x" * 44, "../../etc/passwd" + "a" * 27, "é" * 43, 12345, None])
def test_a_malformed_or_unknown_token_gets_a_fresh_workspace(store: Store, bad: object) -> None:
    _, workspace, _ = store.open_workspace(None)
    token, other, fresh = store.open_workspace(bad)  # type: ignore[arg-type]
    assert fresh and token != bad and other != workspace
    unknown = "A" * 43  # well-formed, never issued
    token2, other2, fresh2 = store.open_workspace(unknown)
    assert fresh2 and token2 != unknown and other2 not in (workspace, other)


def test_a_new_store_process_sees_the_same_workspace(store: Store, model_bytes: bytes) -> None:
    token, workspace, _ = store.open_workspace(None)
    store.save_model(workspace, model_bytes, "my AE")
    reopened = Store(store.root)
    _, same, fresh = reopened.open_workspace(token)
    assert not fresh and [m.title for m in reopened.models(same)] == ["my AE"]


# --- models, datasets, light state -------------------------------------------------------------------------------


def test_a_saved_model_loads_back_the_same_weights(store: Store, model_bytes: bytes, trained_ae: TrainedModel) -> None:
    _, workspace, _ = store.open_workspace(None)
    item = store.save_model(workspace, model_bytes, "my AE")
    assert item.kind == "model" and item.bytes == len(model_bytes)
    loaded = store.load_model(workspace, item.name)
    assert loaded.header.weights_sha256 == trained_ae.checkpoint.header.weights_sha256
    assert (store.root / "workspaces" / workspace.id / f"{item.name}.safetensors").read_bytes() == model_bytes


def test_a_model_is_checked_before_it_is_kept(store: Store) -> None:
    _, workspace, _ = store.open_workspace(None)
    with pytest.raises(BadCheckpoint, match="pickle"):
        store.save_model(workspace, b"\x80\x04" + b"\0" * 100, "evil")
    assert store.models(workspace) == []


def test_a_saved_dataset_loads_back_equal(store: Store, tiny: Dataset) -> None:
    _, workspace, _ = store.open_workspace(None)
    data = upload_dataset(tiny)
    item = store.save_dataset(workspace, data, "blobs.npz")
    assert store.save_dataset(workspace, data, "blobs.npz") == item  # the same upload again is kept once
    loaded = store.load_dataset(workspace, data.name)
    assert loaded.name == data.name and loaded.title == "blobs.npz"
    np.testing.assert_allclose(loaded.images, data.images, atol=1e-7)
    np.testing.assert_array_equal(loaded.labels, data.labels)
    np.testing.assert_array_equal(loaded.test_idx, data.test_idx)
    assert loaded.label_names == data.label_names


def test_light_state_keeps_small_json_values_per_workspace(store: Store) -> None:
    _, mine, _ = store.open_workspace(None)
    _, theirs, _ = store.open_workspace(None)
    store.set_light(mine, "language", "zh")
    store.set_light(mine, "point", [0.5, -1.25])
    store.set_light(mine, "drawing", {"strokes": [[1, 2], [3, 4]]})
    assert store.light(mine) == {"language": "zh", "point": [0.5, -1.25], "drawing": {"strokes": [[1, 2], [3, 4]]}}
    assert store.light(theirs) == {}
    store.set_light(mine, "point", None)
    assert "point" not in store.light(mine)
    with pytest.raises(QuotaExceeded, match="too large"):
        store.set_light(mine, "drawing", "x" * 70_000)
    assert store.light(mine)["drawing"] == {"strokes": [[1, 2], [3, 4]]}


def test_nothing_in_one_workspace_is_reachable_from_another(store: Store, model_bytes: bytes, tiny: Dataset) -> None:
    _, mine, _ = store.open_workspace(None)
    _, theirs, _ = store.open_workspace(None)
    model = store.save_model(mine, model_bytes, "mine")
    store.save_dataset(mine, upload_dataset(tiny), "mine.npz")
    assert store.models(theirs) == [] and store.datasets(theirs) == []
    with pytest.raises(StoreError, match="no model"):
        store.load_model(theirs, model.name)
    with pytest.raises(StoreError, match="no dataset"):
        store.load_dataset(theirs, "upload-0123456789ab")
    store.delete_item(theirs, model.name)
    assert [m.name for m in store.models(mine)] == [model.name]


def test_delete_my_workspace_removes_everything_of_it_only(store: Store, model_bytes: bytes) -> None:
    token, mine, _ = store.open_workspace(None)
    _, theirs, _ = store.open_workspace(None)
    store.save_model(mine, model_bytes, "mine")
    kept = store.save_model(theirs, model_bytes, "theirs")
    store.set_light(mine, "language", "zh")
    store.delete_workspace(mine)
    assert not (store.root / "workspaces" / mine.id).exists()
    assert store.models(mine) == [] and store.light(mine) == {}
    _, after, fresh = store.open_workspace(token)
    assert fresh and after != mine
    assert store.models(theirs) == [kept]
    with pytest.raises(StoreError, match="no longer exists"):
        store.save_model(mine, model_bytes, "too late")


def test_delete_one_model(store: Store, model_bytes: bytes) -> None:
    _, workspace, _ = store.open_workspace(None)
    a = store.save_model(workspace, model_bytes, "a")
    b = store.save_model(workspace, model_bytes, "b")
    store.delete_item(workspace, a.name)
    assert store.models(workspace) == [b]
    assert not (store.root / "workspaces" / workspace.id / f"{a.name}.safetensors").exists()


# --- limits ----------------------------------------------------------------------------------------------------


def test_quota_on_models_refuses_with_a_message_and_loses_nothing(tmp_path: Path, model_bytes: bytes) -> None:
    store = Store(tmp_path, Limits(max_models=2))
    _, workspace, _ = store.open_workspace(None)
    kept = [store.save_model(workspace, model_bytes, t) for t in ("a", "b")]
    with pytest.raises(QuotaExceeded, match="already holds 2 models"):
        store.save_model(workspace, model_bytes, "c")
    assert store.models(workspace) == kept
    assert len(list((tmp_path / "workspaces" / workspace.id).glob("*.safetensors"))) == 2


def test_quota_on_bytes_per_workspace_and_on_the_whole_store(tmp_path: Path, model_bytes: bytes) -> None:
    size = len(model_bytes)
    store = Store(tmp_path, Limits(max_workspace_bytes=int(1.5 * size), max_store_bytes=int(2.5 * size)))
    _, a, _ = store.open_workspace(None)
    _, b, _ = store.open_workspace(None)
    _, c, _ = store.open_workspace(None)
    store.save_model(a, model_bytes, "a1")
    with pytest.raises(QuotaExceeded, match="its limit is"):
        store.save_model(a, model_bytes, "a2")
    store.save_model(b, model_bytes, "b1")
    with pytest.raises(QuotaExceeded, match="store is full"):
        store.save_model(c, model_bytes, "c1")
    assert [len(store.models(w)) for w in (a, b, c)] == [1, 1, 0]


def test_disk_full_is_a_clear_message_and_nothing_else_is_lost(
    store: Store, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, workspace, _ = store.open_workspace(None)
    kept = store.save_model(workspace, model_bytes, "kept")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreError, match="disk is full"):
        store.save_model(workspace, model_bytes, "lost")
    monkeypatch.undo()
    assert store.models(workspace) == [kept]
    assert files_under(store.root / "workspaces") == [
        f"{workspace.id}/{kept.name}.json",
        f"{workspace.id}/{kept.name}.safetensors",
    ]
    store.load_model(workspace, kept.name)


def test_idle_workspaces_expire_and_used_ones_stay(tmp_path: Path, model_bytes: bytes) -> None:
    store = Store(tmp_path, Limits(idle_expiry_s=3600))
    _, old, _ = store.open_workspace(None)
    store.save_model(old, model_bytes, "old")
    token, recent, _ = store.open_workspace(None)
    later = time.time() + 7200
    with sqlite3.connect(tmp_path / INDEX_NAME) as db:
        db.execute("UPDATE workspaces SET last_seen = ? WHERE id = ?", (later - 10, recent.id))
    assert store.expire(now=later) == 1
    assert not (tmp_path / "workspaces" / old.id).exists()
    assert store.open_workspace(token)[1] == recent


# --- share links ---------------------------------------------------------------------------------------------


def test_a_share_link_copies_the_model_into_another_workspace(store: Store, model_bytes: bytes) -> None:
    _, owner, _ = store.open_workspace(None)
    _, friend, _ = store.open_workspace(None)
    item = store.save_model(owner, model_bytes, "owner's AE")
    link = store.share(owner, item.name)
    assert len(link) == 43 and link != store.share(owner, item.name)
    copy = store.copy_shared(link, friend)
    assert copy is not None and copy.title == "owner's AE" and copy.name != item.name
    assert store.copy_shared(link, friend) == copy  # opening it again does not copy twice
    assert store.models(friend) == [copy] and store.models(owner) == [item]
    assert store.load_model(friend, copy.name).header == store.load_model(owner, item.name).header
    assert store.copy_shared("B" * 43, friend) is None
    assert store.copy_shared("not a link", friend) is None
    store.delete_item(owner, item.name)
    assert store.copy_shared(link, store.open_workspace(None)[1]) is None
    assert store.models(friend) == [copy]  # the copy is the friend's own


def test_a_share_link_cannot_share_what_is_not_yours(store: Store, model_bytes: bytes) -> None:
    _, owner, _ = store.open_workspace(None)
    _, other, _ = store.open_workspace(None)
    item = store.save_model(owner, model_bytes, "owner's AE")
    with pytest.raises(StoreError, match="no model"):
        store.share(other, item.name)


# --- damage on disk ------------------------------------------------------------------------------------------


def test_a_truncated_model_file_is_refused_and_the_rest_works(store: Store, model_bytes: bytes, tiny: Dataset) -> None:
    _, workspace, _ = store.open_workspace(None)
    broken = store.save_model(workspace, model_bytes, "broken")
    fine = store.save_model(workspace, model_bytes, "fine")
    store.save_dataset(workspace, upload_dataset(tiny), "blobs.npz")
    path = store.root / "workspaces" / workspace.id / f"{broken.name}.safetensors"
    path.write_bytes(model_bytes[: len(model_bytes) // 2])
    with pytest.raises(BadCheckpoint, match="file has only"):
        store.load_model(workspace, broken.name)
    store.load_model(workspace, fine.name)
    store.load_dataset(workspace, "upload-0123456789ab")
    assert len(store.models(workspace)) == 2


def test_a_dataset_edited_on_disk_is_refused_as_an_upload_would_be(store: Store, tiny: Dataset) -> None:
    _, workspace, _ = store.open_workspace(None)
    data = upload_dataset(tiny)
    store.save_dataset(workspace, data, "blobs.npz")
    path = store.root / "workspaces" / workspace.id / f"{data.name}.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnsupportedFile):
        store.load_dataset(workspace, data.name)


def _open_index_files(store: Store) -> int:
    index = str((store.root / INDEX_NAME).resolve())
    return sum(1 for fd in Path("/proc/self/fd").iterdir() if os.path.realpath(fd) == index)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_many_threads_share_a_few_kept_connections_and_lose_no_write(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _, workspace, _ = store.open_workspace(None)

    def write(i: int) -> None:
        store.set_light(workspace, f"k{i}", {"i": i})
        assert store.light(workspace)[f"k{i}"] == {"i": i}  # a read right after sees the commit

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(400)))
    assert store.light(workspace) == {f"k{i}": {"i": i} for i in range(400)}
    # Open files: at most one per thread in a transaction at once, plus those kept (SQLite may defer closing a
    # file while another connection of the process holds a lock on it), never one per transaction.
    assert 1 <= _open_index_files(store) <= 8 + KEPT_OPEN


def test_a_failed_transaction_leaves_no_open_transaction_behind(store: Store) -> None:
    _, workspace, _ = store.open_workspace(None)
    store.set_light(workspace, "point", [0.0, 1.0])
    with pytest.raises(QuotaExceeded):
        store.set_light(workspace, "point", "x" * (65 * 1024))
    store.set_light(workspace, "other", 1)  # would wait on a write lock a failed transaction kept
    assert Store(store.root).light(workspace) == {"point": [0.0, 1.0], "other": 1}


def test_a_deleted_index_is_rebuilt_from_the_files(store: Store, model_bytes: bytes, tiny: Dataset) -> None:
    token, workspace, _ = store.open_workspace(None)
    model = store.save_model(workspace, model_bytes, "my AE")
    store.save_dataset(workspace, upload_dataset(tiny), "blobs.npz")
    for path in store.root.glob(INDEX_NAME + "*"):
        path.unlink()
    rebuilt = Store(store.root)
    assert rebuilt.rebuilt
    _, same, fresh = rebuilt.open_workspace(token)
    assert not fresh and same == workspace
    assert [(m.name, m.title) for m in rebuilt.models(same)] == [(model.name, "my AE")]
    assert [d.title for d in rebuilt.datasets(same)] == ["blobs.npz"]
    rebuilt.load_model(same, model.name)


def test_a_damaged_index_is_set_aside_and_rebuilt_with_a_message(store: Store, model_bytes: bytes) -> None:
    token, workspace, _ = store.open_workspace(None)
    model = store.save_model(workspace, model_bytes, "my AE")
    with sqlite3.connect(store.root / INDEX_NAME) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in store.root.glob(INDEX_NAME + "-*"):
        path.unlink()
    (store.root / INDEX_NAME).write_bytes(b"this is not a database" * 100)
    rebuilt = Store(store.root)
    assert rebuilt.problem and "damaged" in rebuilt.problem
    assert list(store.root.glob(INDEX_NAME + ".damaged-*"))
    _, same, fresh = rebuilt.open_workspace(token)
    assert not fresh and [m.name for m in rebuilt.models(same)] == [model.name]


def test_files_without_an_index_row_and_rows_without_files_are_dropped(store: Store, model_bytes: bytes) -> None:
    _, workspace, _ = store.open_workspace(None)
    kept = store.save_model(workspace, model_bytes, "kept")
    gone = store.save_model(workspace, model_bytes, "gone")
    folder = store.root / "workspaces" / workspace.id
    (folder / f"{gone.name}.safetensors").unlink()
    (folder / "m-orphan.safetensors").write_bytes(model_bytes)  # a save whose row never committed
    Store(store.root)
    assert store.models(workspace) == [kept]
    assert not (folder / "m-orphan.safetensors").exists()


# --- across processes ------------------------------------------------------------------------------------------

SAVER = textwrap.dedent(
    """
    import sys
    from aelab.store import Store, Workspace
    root, workspace_id, model_path, count, tag = sys.argv[1:6]
    store = Store(root)
    data = open(model_path, "rb").read()
    print("ready", flush=True)
    for i in range(int(count)):
        store.save_model(Workspace(workspace_id), data, f"{tag}-{i}")
        print(i, flush=True)
    """
)


def _saver(root: Path, workspace: Workspace, model_path: Path, count: int, tag: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", SAVER, str(root), workspace.id, str(model_path), str(count), tag],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_two_processes_writing_one_workspace_lose_nothing(tmp_path: Path, model_bytes: bytes) -> None:
    root = tmp_path / "data"
    store = Store(root)
    _, workspace, _ = store.open_workspace(None)
    model_path = tmp_path / "m.safetensors"
    model_path.write_bytes(model_bytes)
    writers = [_saver(root, workspace, model_path, 8, tag) for tag in ("a", "b")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    titles = sorted(m.title for m in store.models(workspace))
    assert titles == sorted(f"{tag}-{i}" for tag in "ab" for i in range(8))
    assert len(list((root / "workspaces" / workspace.id).glob("*.safetensors"))) == 16


@pytest.mark.slow
def test_sigkill_mid_save_leaves_the_index_and_files_in_agreement(tmp_path: Path, model_bytes: bytes) -> None:
    root = tmp_path / "data"
    store = Store(root)
    _, workspace, _ = store.open_workspace(None)
    model_path = tmp_path / "m.safetensors"
    model_path.write_bytes(model_bytes)
    for delay in (0.05, 0.15, 0.3):
        writer = _saver(root, workspace, model_path, 10_000, f"k{delay}")
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        store.reconcile()
        # a fresh process would run this on start; an old temporary file goes too
        for temp in (root / "workspaces" / workspace.id).glob(".*.tmp"):
            os.utime(temp, (0, 0))
        Store(root)
        listed = {m.name for m in store.models(workspace)}
        on_disk = {p.name.split(".")[0] for p in (root / "workspaces" / workspace.id).iterdir()}
        assert listed == on_disk
        for name in listed:
            store.load_model(workspace, name)


def test_dataset_bytes_are_an_npz_an_upload_accepts(tiny: Dataset) -> None:
    from aelab.uploads import parse_npz

    parsed = parse_npz(dataset_bytes(tiny), "x")
    np.testing.assert_allclose(parsed.images, tiny.images, atol=1e-7)
