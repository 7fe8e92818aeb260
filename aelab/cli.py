"""The ``aelab`` command: app, train, eval, sample, pretrain, info, data. Thin over the library, with progress bars.

Every expected failure (a bad flag, a missing or hostile file, a diverging run) ends with one line on
stderr, ``aelab: error: ...``, and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from aelab import __version__
from aelab.errors import AelabError

EXIT_ERROR = 2
CHECKPOINT_HELP = "a .safetensors file, or a shipped model's name (e.g. mnist5k-vae)"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1; got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aelab", description="Autoencoder latent-space lab.")
    parser.add_argument("--version", action="version", version=f"aelab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    app = commands.add_parser(
        "app",
        help="start the Streamlit app (extra streamlit flags go after --)",
        usage="aelab app [--port N] [--host H] [-- extra streamlit flags]",
    )
    app.add_argument("--port", type=_positive_int, default=8501)
    app.add_argument("--host", default="localhost", help="address to serve on (0.0.0.0: every interface)")

    serve = commands.add_parser(
        "serve",
        help="start N replicas of the app behind nginx on one port (extra streamlit flags go after --)",
        usage="aelab serve [--replicas N] [--port P] [--host H] [-- extra streamlit flags]",
    )
    serve.add_argument("--replicas", type=_positive_int, default=2, help="app processes (ports P+1 .. P+N)")
    serve.add_argument("--port", type=_positive_int, default=8501, help="where nginx listens")
    serve.add_argument("--host", default="127.0.0.1", help="nginx's address (0.0.0.0: every interface)")

    _add_train_command(commands)

    evaluate = commands.add_parser("eval", help="test MSE and kNN accuracy of a checkpoint beside PCA(2)")
    evaluate.add_argument("checkpoint", help=CHECKPOINT_HELP)
    evaluate.add_argument("--dataset", default=None, help="defaults to the checkpoint's dataset")

    sample = commands.add_parser("sample", help="generate new images and save them as a PNG grid")
    sample.add_argument("checkpoint", help=CHECKPOINT_HELP)
    sample.add_argument("-n", type=_positive_int, default=64, help="how many images")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--scale", type=_positive_int, default=2, help="pixels per image pixel in the PNG")
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--label", default=None, help="for a cvae: the class to draw, by name or index (default: each)")

    pretrain = commands.add_parser("pretrain", help="rebuild the shipped checkpoints in the checkout's pretrained/")
    pretrain.add_argument("--out-dir", type=Path, default=None)
    pretrain.add_argument("--only", nargs="+", default=None, help="recipe names, e.g. mnist5k-vae")

    info = commands.add_parser("info", help="print a checkpoint's header")
    info.add_argument("checkpoint", help=CHECKPOINT_HELP)

    _add_data_commands(commands)
    _add_export_command(commands)
    _add_animate_command(commands)
    return parser


def _code(text: str) -> list[float]:
    """A code on the command line: numbers separated by commas, e.g. "-1.5,2"."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. -1.5,2; got {text!r}") from None


def _add_animate_command(commands) -> None:
    """``aelab animate CHECKPOINT --from x,y --to x,y --out walk.gif``: a walk across the plane as a GIF."""
    animate = commands.add_parser("animate", help="write a walk between two codes as an animated GIF")
    animate.add_argument("checkpoint", help=CHECKPOINT_HELP)
    animate.add_argument(
        "--from",
        dest="start",
        type=_code,
        required=True,
        help="the first code, e.g. --from=-2,0 (with = when it starts with a minus)",
    )
    animate.add_argument("--to", dest="end", type=_code, required=True, help="the last code, e.g. 2,1.5")
    animate.add_argument("--steps", type=_positive_int, default=24, help="images along the way")
    animate.add_argument(
        "--scale", type=_positive_int, default=None, help="pixels per image pixel (default 8; 3 for a cvae's row)"
    )
    animate.add_argument("--label", default=None, help="for a cvae: the class to draw (default: every class in a row)")
    animate.add_argument("--fps", type=float, default=12.0, help="frames per second")
    animate.add_argument("--out", type=Path, required=True, help="the .gif file to write")


def cmd_animate(args: argparse.Namespace) -> None:
    from aelab.animate import walk_gif

    checkpoint = _checkpoint(args.checkpoint)
    label = _label(checkpoint, args.label)
    scale = args.scale or (3 if checkpoint.model.conditional and label is None else 8)
    data = walk_gif(checkpoint.model, args.start, args.end, steps=args.steps, scale=scale, fps=args.fps, label=label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote a walk of {args.steps} images, there and back, to {args.out} ({len(data) / 1024:.0f} kB)")


def _label(checkpoint, given: str | None) -> int | None:
    """``--label``, a class's name or index, as the index a conditional model is told (None when not given)."""
    if given is None:
        return None
    model = checkpoint.model
    if not model.conditional:
        raise AelabError(f"--label is for a model told the label (such as a cvae); this one is of kind {model.kind}")
    names = list(checkpoint.label_names)
    if given in names:
        return names.index(given)
    if given.lstrip("-").isdigit() and 0 <= int(given) < model.config.classes:
        return int(given)
    raise AelabError(f"label {given!r} is not one of this model's classes: {', '.join(names)}")


def _add_train_command(commands) -> None:
    """``aelab train --dataset NAME --model KIND ... --out FILE``: train a model and save its checkpoint."""
    from aelab.data import dataset_names
    from aelab.models import kinds

    train = commands.add_parser("train", help="train a model and save its checkpoint")
    train.add_argument("--dataset", default="mnist5k", choices=dataset_names())
    train.add_argument("--model", default="vae", choices=kinds(), help="model kind")
    # Options left unset (None) take the dataset's defaults from aelab.recipes, so defaults live in one place.
    train.add_argument("--epochs", type=_positive_int, default=None, help="default: the dataset's (recipes)")
    train.add_argument("--latent-dim", type=_positive_int, default=2)
    train.add_argument("--batch-size", type=_positive_int, default=None, help="default: the dataset's (recipes)")
    train.add_argument("--lr", type=float, default=None, help="learning rate; default: the dataset's (recipes)")
    _add_kind_settings(train)
    train.add_argument(
        "--shift", type=float, default=0.0, help="random shift of training images, pixels (augmentation)"
    )
    train.add_argument("--hidden", type=_positive_int, nargs="+", default=None, help="MLP widths, image side first")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    train.add_argument("--out", type=Path, required=True, help="checkpoint to write (.safetensors)")


def _add_kind_settings(train: argparse.ArgumentParser) -> None:
    """One option per setting of the registered kinds (``--beta``, ``--noise``...), each saying its kinds."""
    from aelab.models import MODEL_CLASSES, all_settings

    for name, setting in all_settings().items():
        owners = ", ".join(k for k, cls in MODEL_CLASSES.items() if any(s.name == name for s in cls.settings))
        kind_of = int if setting.integer else float
        train.add_argument(
            setting.flag,
            dest=name,
            type=kind_of,
            default=None,
            help=f"{setting.title} ({owners}; default {setting.default:g})",
        )


def _add_export_command(commands) -> None:
    """``aelab export-html CHECKPOINT --dataset NAME --out FILE``: the single-file offline explorer."""
    export = commands.add_parser(
        "export-html",
        help="write one self-contained HTML page to explore a model offline (hover decoding in the browser)",
    )
    export.add_argument("checkpoint", help=CHECKPOINT_HELP)
    export.add_argument("--dataset", default=None, help="defaults to the checkpoint's dataset")
    export.add_argument("--grid", type=_positive_int, default=15, help="manifold grid side (n × n decoded images)")
    export.add_argument("--out", type=Path, required=True, help="the .html file to write")


def _checkpoint(given: str):
    """The checkpoint a user named: a file if one is there, else a shipped model's name (verified by its sum)."""
    from aelab.checkpoint import load_checkpoint
    from aelab.recipes import load_pretrained, shipped_names

    path = Path(given)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return load_checkpoint(path)
    if given in shipped_names():
        return load_pretrained(given)
    raise AelabError(
        f"{given} is neither a checkpoint file nor a shipped model; shipped models: {', '.join(shipped_names())}"
    )


def cmd_export_html(args: argparse.Namespace) -> None:
    from aelab.export import write_explorer

    if args.grid > 40:
        raise AelabError(f"--grid is limited to 40; got {args.grid}")
    checkpoint = _checkpoint(args.checkpoint)
    dataset = _load(args.dataset or checkpoint.dataset)
    path = write_explorer(checkpoint, dataset, args.out, grid=args.grid)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): open it in any browser, no network needed")


def _add_data_commands(commands) -> None:
    """``aelab data fetch NAME`` and ``aelab data import PATH --dataset NAME`` for the online datasets."""
    from aelab.sources import IDX_FILES, ONLINE

    data = commands.add_parser("data", help="fetch an online dataset, or import its standard files by hand")
    actions = data.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser("fetch", help="download an online dataset into the per-user cache")
    fetch.add_argument("name", choices=list(ONLINE))
    imported = actions.add_parser(
        "import",
        help=f"put a dataset's standard files into the cache: a folder with {', '.join(IDX_FILES)}, or an .npz",
    )
    imported.add_argument("path", type=Path)
    imported.add_argument("--dataset", required=True, choices=list(ONLINE), help="which online dataset the files are")


def _progress_bar(total: int, description: str):
    """A tqdm bar over epochs and the on_epoch callback that advances it with the latest losses."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="epoch", dynamic_ncols=True)

    def on_epoch(report) -> None:
        bar.set_postfix({f"test_{k}": f"{v:.4g}" for k, v in report.test.items()}, refresh=False)
        bar.update(1)

    return bar, on_epoch


def _fetch_with_bar(name: str) -> None:
    """Download an online dataset into the cache (first use only) with a tqdm bar over its stages."""
    from tqdm import tqdm

    from aelab.sources import fetch

    with tqdm(total=100, desc=f"fetching {name}", unit="%", dynamic_ncols=True) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_postfix_str(message, refresh=False)
            bar.update(round(100 * fraction) - bar.n)

        fetch(name, progress)


def _load(dataset_name: str):
    """load_dataset, fetching an online dataset first with a progress bar when it is not cached yet."""
    from aelab.data import load_dataset
    from aelab.sources import ONLINE, is_cached

    if dataset_name in ONLINE and not is_cached(dataset_name):
        _fetch_with_bar(dataset_name)
    return load_dataset(dataset_name)


def cmd_data(args: argparse.Namespace) -> None:
    from aelab.sources import ONLINE, import_files

    if args.action == "fetch":
        _fetch_with_bar(args.name)
        print(f"{ONLINE[args.name].title}: cached in {ONLINE[args.name].cache_file}")
    else:
        path = import_files(args.path, args.dataset)
        print(f"imported {args.path} as {args.dataset}: {path}")


def _train_on(dataset, model_config, train_config, description: str):
    from aelab.recipes import train_model

    bar, on_epoch = _progress_bar(train_config.epochs, description)
    try:
        return train_model(dataset, model_config, train_config, on_epoch=on_epoch)
    finally:
        bar.close()


def _given(args: argparse.Namespace, *names: str) -> dict:
    """The options among ``names`` the user gave (not None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def cmd_train(args: argparse.Namespace) -> None:
    from aelab.models import all_settings
    from aelab.recipes import model_config_for, train_config_for

    dataset = _load(args.dataset)
    chosen = _given(args, "latent_dim", "seed", *all_settings())
    if args.hidden:
        chosen["hidden"] = tuple(args.hidden)
    model_config = model_config_for(dataset, args.model, **chosen)
    training = _given(args, "epochs", "batch_size", "lr", "seed", "device", "shift")
    train_config = train_config_for(dataset, **training)
    train_config.validate()
    trained = _train_on(dataset, model_config, train_config, f"{args.dataset}-{args.model}")
    path = trained.checkpoint.save(args.out)
    m = trained.metrics
    print(
        f"saved {path}  test MSE {m.test_mse:.4f}  5-NN accuracy {m.knn_accuracy:.3f}  ({trained.history.seconds:.1f} s)"
    )
    if not trained.learned:
        from aelab.recipes import NOT_LEARNED

        print(
            "aelab: warning: " + NOT_LEARNED.format(mse=m.test_mse, mean=trained.mean_image_mse, lr=train_config.lr),
            file=sys.stderr,
        )


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def cmd_eval(args: argparse.Namespace) -> None:
    from aelab.baselines import evaluate_embedding, evaluate_model, fit_pca
    from aelab.checkpoint import check_fits
    from aelab.data import load_dataset

    checkpoint = _checkpoint(args.checkpoint)
    dataset = load_dataset(args.dataset or checkpoint.dataset)
    check_fits(checkpoint, dataset)
    rows = []
    for metrics in (
        evaluate_model(checkpoint.model, dataset, name=f"{checkpoint.kind} ({Path(args.checkpoint).name})"),
        evaluate_embedding(fit_pca(dataset), dataset),
    ):
        rows.append([metrics.method, f"{metrics.test_mse:.4f}", f"{metrics.knn_accuracy:.3f}"])
    print(f"{dataset.title}: {len(dataset.train_idx)} train / {len(dataset.test_idx)} test")
    print(_table(rows, ["method", "test MSE", "5-NN accuracy"]))


def cmd_sample(args: argparse.Namespace) -> None:
    from aelab.data import load_dataset
    from aelab.imaging import png_bytes, tile
    from aelab.latent import encode_images, generate, samples_from_prior

    checkpoint = _checkpoint(args.checkpoint)
    if args.n > 4096:
        raise AelabError(f"-n is limited to 4096 images; got {args.n}")
    if args.scale > 32:  # 4096 tiles at a larger scale would need gigabytes for one PNG
        raise AelabError(f"--scale is limited to 32 pixels per image pixel; got {args.scale}")
    label = _label(checkpoint, args.label)
    train_codes = None
    if not samples_from_prior(checkpoint.model):
        train_codes = encode_images(checkpoint.model, load_dataset(checkpoint.dataset).train_images)
    _, images = generate(checkpoint.model, args.n, seed=args.seed, train_codes=train_codes, label=label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # A conditional model's samples without --label go through the classes in turn: one class per column.
    columns = checkpoint.model.config.classes if checkpoint.model.conditional and label is None else None
    args.out.write_bytes(png_bytes(tile(images, columns=columns), scale=args.scale))
    drawn = "" if label is None else f" of {checkpoint.label_names[label]}"
    print(f"wrote {args.n} samples{drawn} to {args.out}")


def cmd_pretrain(args: argparse.Namespace) -> None:
    import torch

    from aelab.baselines import evaluate_embedding, fit_pca
    from aelab.checkpoint import load_checkpoint
    from aelab.data import load_dataset
    from aelab.recipes import PRETRAINED, SOURCE_PRETRAINED_DIR, write_manifest

    # One thread: the order of floating-point sums, and so the weights, must not depend on the core count.
    torch.set_num_threads(1)
    recipes = [r for r in PRETRAINED if not args.only or r.name in args.only]
    unknown = set(args.only or []) - {r.name for r in PRETRAINED}
    if unknown:
        raise AelabError(
            f"unknown recipe {', '.join(sorted(unknown))}; choose from {', '.join(r.name for r in PRETRAINED)}"
        )
    # The default target is the checkout's pretrained/ (what the wheel ships); an installed aelab has no checkout.
    if args.out_dir is None and not SOURCE_PRETRAINED_DIR.is_dir():
        raise AelabError(
            "no source checkout here: `aelab pretrain` rebuilds pretrained/ in a clone of aelab's repository; "
            "pass --out-dir DIR to write the checkpoints elsewhere"
        )
    out_dir = args.out_dir or SOURCE_PRETRAINED_DIR
    rows = []
    for recipe in recipes:
        target = out_dir / recipe.path.name
        before = load_checkpoint(target).header.weights_sha256 if target.is_file() else None
        dataset = _load(recipe.dataset)
        trained = _train_on(dataset, recipe.model, recipe.train, recipe.name)
        trained.checkpoint.save(target)
        after = load_checkpoint(target).header.weights_sha256
        same = "new" if before is None else ("same weights" if before == after else "weights changed")
        m = trained.metrics
        rows.append(
            [
                recipe.name,
                f"{m.test_mse:.4f}",
                f"{m.knn_accuracy:.3f}",
                f"{trained.history.seconds:.0f}",
                after[:12],
                same,
            ]
        )
    write_manifest(out_dir)
    for name in sorted({r.dataset for r in recipes}):
        dataset = load_dataset(name)
        m = evaluate_embedding(fit_pca(dataset), dataset)
        rows.append([f"{name} PCA(2)", f"{m.test_mse:.4f}", f"{m.knn_accuracy:.3f}", f"{m.fit_seconds:.1f}", "", ""])
    print(_table(rows, ["checkpoint", "test MSE", "5-NN accuracy", "seconds", "weights sha256", "vs before"]))


def cmd_info(args: argparse.Namespace) -> None:
    import json

    print(json.dumps(_checkpoint(args.checkpoint).header.to_json(), indent=2, ensure_ascii=False))


def _port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (bound as Tornado binds: SO_REUSEADDR, every address)."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise AelabError(f"cannot serve on {host}: {error.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return True
                if error.errno != errno.EADDRNOTAVAIL:  # e.g. no IPv6 here: Tornado skips that address too
                    raise
    return False


def app_command(host: str, port: int, extra: Sequence[str] = ()) -> list[str]:
    """``python -m streamlit run <the packaged app> ...``: Streamlit's documented way to start an app."""
    # A path, not an import: the library never imports the UI (tests/test_imports.py); wheels unpack on disk.
    script = Path(__file__).resolve().parent / "ui" / "app.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--runner.postScriptGC", "false",  # a full GC after every run: a third of a class's CPU (.streamlit/config.toml)
        # Watching the package's sources for edits: behind nginx a class's reruns then took up to ~30 s
        # (BENCHMARKS.md, issue 18); an installed app is never edited while it serves.
        "--server.fileWatcherType", "none",
        *extra,
    ]  # fmt: skip


def cmd_app(args: argparse.Namespace) -> int:
    if _port_in_use(args.host, args.port):
        raise AelabError(f"port {args.port} on {args.host} is busy; choose another with --port")
    print(f"aelab: serving on http://{args.host}:{args.port} (Ctrl+C stops it)", file=sys.stderr, flush=True)
    process = subprocess.Popen(app_command(args.host, args.port, args.streamlit_args))
    # A `kill` (SIGTERM) or a closed terminal (SIGHUP) reaches only this process: pass it on, so Streamlit stops
    # with it instead of serving on alone (a test's or a service manager's stop left it running before).
    forward = lambda signum, _frame: process.send_signal(signum)  # noqa: E731
    previous = {number: signal.signal(number, forward) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return process.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to Streamlit too: let it shut down cleanly
        return process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def cmd_serve(args: argparse.Namespace) -> int:
    from aelab.serve import serve

    ports = [args.port, *(args.port + 1 + i for i in range(args.replicas))]
    busy = [p for p in ports if _port_in_use(args.host if p == args.port else "127.0.0.1", p)]
    if busy:
        raise AelabError(f"ports {busy} are busy; `aelab serve` needs --port P and P+1..P+{args.replicas} free")
    return serve(args.replicas, args.port, args.host, args.streamlit_args)


COMMANDS = {
    "app": cmd_app,
    "train": cmd_train,
    "eval": cmd_eval,
    "sample": cmd_sample,
    "pretrain": cmd_pretrain,
    "info": cmd_info,
}
COMMANDS["data"] = cmd_data
COMMANDS["serve"] = cmd_serve
COMMANDS["export-html"] = cmd_export_html
COMMANDS["animate"] = cmd_animate


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `aelab app|serve ... -- FLAGS`: everything after the first -- goes to streamlit untouched.
    extra: list[str] = []
    command_at = next((i for i, token in enumerate(argv) if not token.startswith("-")), None)
    if command_at is not None and argv[command_at] in ("app", "serve") and "--" in argv[command_at:]:
        split = argv.index("--", command_at)
        argv, extra = argv[:split], argv[split + 1 :]
    args = _parser().parse_args(argv)
    args.streamlit_args = extra
    try:
        status = COMMANDS[args.command](args)
    except (AelabError, ValueError, OSError) as error:
        print(f"aelab: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("aelab: interrupted", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
