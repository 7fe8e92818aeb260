"""The aelab command end to end on tiny data: a registered tiny dataset stands in for MNIST."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from synthetic import tiny_dataset

from aelab import cli
from aelab.data import Source, register_source

register_source(Source("blobs8", "Blobs 8×8", lambda: tiny_dataset(), "tiny generated test set"))


def run(*args: str) -> int:
    return cli.main(list(args))


def test_train_eval_sample_info_end_to_end(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.safetensors"
    assert (
        run("train", "--dataset", "blobs8", "--model", "vae", "--epochs", "3", "--hidden", "16", "--out", str(out)) == 0
    )
    assert out.is_file() and "test MSE" in capsys.readouterr().out

    assert run("eval", str(out)) == 0
    table = capsys.readouterr().out
    assert "PCA(2)" in table and "vae (m.safetensors)" in table and "5-NN accuracy" in table

    png = tmp_path / "grid.png"
    assert run("sample", str(out), "-n", "9", "--scale", "3", "--out", str(png)) == 0
    assert Image.open(png).size == ((3 * (8 + 1) + 1) * 3,) * 2  # 3×3 tiles of 8 px with 1 px gaps, scaled ×3

    assert run("info", str(out)) == 0
    assert '"kind": "vae"' in capsys.readouterr().out


def test_sample_from_a_non_vae_fits_a_density(tmp_path: Path) -> None:
    out = tmp_path / "ae.safetensors"
    assert (
        run("train", "--dataset", "blobs8", "--model", "ae", "--epochs", "2", "--hidden", "16", "--out", str(out)) == 0
    )
    assert run("sample", str(out), "-n", "4", "--out", str(tmp_path / "s.png")) == 0


def test_a_bad_checkpoint_ends_in_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"a": 1}))
    assert run("eval", str(evil)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aelab: error:") and "never unpickles" in err and "\n" not in err


def test_missing_file_and_bad_values_end_cleanly(tmp_path: Path, capsys) -> None:
    assert run("sample", str(tmp_path / "none.safetensors"), "--out", str(tmp_path / "x.png")) == 2
    assert "no checkpoint file" in capsys.readouterr().err
    assert run("train", "--dataset", "blobs8", "--lr", "nan", "--out", str(tmp_path / "x.safetensors")) == 2
    assert "learning rate" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_bad_flags_exit_2_with_usage_not_a_traceback(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("train", "--dataset", "nope", "--out", "x")
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_pretrain_rejects_unknown_recipes(capsys) -> None:
    assert run("pretrain", "--only", "nope-ae") == 2
    assert "unknown recipe" in capsys.readouterr().err


def test_the_console_script_is_installed() -> None:
    result = subprocess.run([sys.executable, "-m", "aelab.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "pretrain" in result.stdout


def test_train_warns_when_the_model_learned_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "lazy.safetensors"
    args = ("train", "--dataset", "blobs8", "--model", "ae", "--epochs", "10", "--lr", "10", "--hidden", "16")
    assert run(*args, "--out", str(out)) == 0  # the file is still written: the user may want to inspect it
    err = capsys.readouterr().err
    assert "aelab: warning: the model learned nothing" in err and "learning rate (10)" in err


def test_train_a_umap_ae_with_its_structure_settings(tmp_path: Path, capsys) -> None:
    out = tmp_path / "umap.safetensors"
    args = ("train", "--dataset", "blobs8", "--model", "umap-ae", "--epochs", "2", "--hidden", "16")
    structure = ("--umap-weight", "2.5", "--n-neighbors", "8", "--min-dist", "0.2", "--shift", "0.5")
    assert run(*args, *structure, "--out", str(out)) == 0
    capsys.readouterr()
    assert run("info", str(out)) == 0
    header = capsys.readouterr().out
    assert '"umap_weight": 2.5' in header and '"n_neighbors": 8' in header and '"min_dist": 0.2' in header
    assert '"shift": 0.5' in header


def test_a_bad_structure_setting_ends_in_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "never.safetensors"
    assert run("train", "--dataset", "blobs8", "--model", "umap-ae", "--n-neighbors", "1", "--out", str(out)) == 2
    assert "n_neighbors must be between 2 and 200" in capsys.readouterr().err
    assert not out.exists()


def test_version_and_python_dash_m(capsys) -> None:
    import tomllib

    import aelab

    with pytest.raises(SystemExit) as exit_info:
        run("--version")
    assert exit_info.value.code == 0
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert capsys.readouterr().out.strip() == f"aelab {aelab.__version__}" == f"aelab {project['version']}"
    result = subprocess.run([sys.executable, "-m", "aelab", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == f"aelab {aelab.__version__}"


def test_a_shipped_model_is_named_where_a_path_is_accepted(tmp_path: Path, capsys) -> None:
    assert run("info", "digits-vae") == 0
    assert '"kind": "vae"' in capsys.readouterr().out
    assert run("sample", "digits-ae", "-n", "4", "--out", str(tmp_path / "s.png")) == 0
    assert (tmp_path / "s.png").is_file()


def test_an_unknown_name_lists_the_shipped_models(capsys) -> None:
    assert run("eval", "mnist5k-gan") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aelab: error: mnist5k-gan is neither a checkpoint file nor a shipped model")
    assert "mnist5k-vae, mnist5k-ae" in err and "digits-umap-ae" in err and "\n" not in err


def test_app_runs_streamlit_on_the_packaged_app(monkeypatch, capsys) -> None:
    started: list[list[str]] = []

    class FakeStreamlit:
        def __init__(self, command: list[str]) -> None:
            started.append(command)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(cli.subprocess, "Popen", FakeStreamlit)
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago (the busy-port check runs for real)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run("app", "--port", str(port), "--host", "127.0.0.1", "--", "--theme.base", "dark") == 0
    (command,) = started
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    script = Path(command[4])
    assert script.name == "app.py" and script.parent == Path(cli.__file__).resolve().parent / "ui"
    flags = dict(zip(command[5::2], command[6::2]))
    assert flags["--server.headless"] == "true" and flags["--server.port"] == str(port)
    assert flags["--server.address"] == "127.0.0.1" and flags["--theme.base"] == "dark"


def test_app_on_a_busy_port_ends_in_one_line_and_exit_2(monkeypatch, capsys) -> None:
    import socket

    monkeypatch.setattr(cli.subprocess, "Popen", lambda *a, **k: pytest.fail("streamlit must not start"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run("app", "--port", str(port), "--host", "127.0.0.1") == 2
    err = capsys.readouterr().err.strip()
    assert err == f"aelab: error: port {port} on 127.0.0.1 is busy; choose another with --port"


def test_pretrain_outside_a_checkout_asks_for_an_out_dir(monkeypatch, tmp_path: Path, capsys) -> None:
    from aelab import recipes

    monkeypatch.setattr(recipes, "SOURCE_PRETRAINED_DIR", tmp_path / "absent")
    assert run("pretrain", "--only", "digits-ae") == 2
    assert "pass --out-dir" in capsys.readouterr().err
