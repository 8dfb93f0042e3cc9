"""``edgegrad train``: train an MLP classifier and write the model, its history and pictures.

With no options it reproduces micrograd's demo: an MLP 2-16-16-1 on 100 two-moons points
(noise 0.1), max-margin loss + L2 1e-4, 100 full-batch SGD steps with the learning rate
decaying linearly from 1.0 to 0.1. Without tqdm it trains with no progress bar, and without
matplotlib it writes no plots, saying so once.

--out is checked (and made) before training. Ctrl-C, SIGTERM or SIGHUP stop training, keep the
last finished step, and the outputs are still written, each atomically; the exit status is then
128 + the signal's number. A run whose loss ends up inf or NaN writes nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from autograd import ACTIVATIONS, InputError, atomic_write
from autograd.files import check_writable

from ..data import DATASETS, MAX_DATA_BYTES, Dataset, load_csv
from ..layers import MLP, parameter_count
from ..losses import LOSSES
from ..module import MAX_PARAMETERS
from ..optim import OPTIMIZERS, LinearDecay, make_optimizer_named
from ..plots import draw_example, hardest_example, plot_boundary, plot_history
from ..train import INSTALL_EXTRAS, History, evaluate, fit
from .arguments import add_input_limit, integer, nonnegative, positive_int
from .messages import emit, error


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()] if text.strip() else []
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes comma-separated layer widths such as 16,16; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive; got {text!r}")
    return sizes


def add_parser(subparsers: Any) -> None:
    """Add ``train`` to the ``edgegrad`` subcommands."""
    p = subparsers.add_parser(
        "train", help="train an MLP classifier and draw what it learned",
        description="Train an MLP on a toy dataset or your CSV; write the model (JSON), the "
        "training curves and decision boundary (PNG) and one example's computation graph "
        "(SVG, or DOT text without Graphviz) into --out. The defaults reproduce micrograd's "
        "demo (2-16-16-1 on 100 two-moons points, hinge + L2, 100 SGD steps, lr 1.0 -> 0.1). "
        "Ctrl-C, SIGTERM or SIGHUP stop training at the last finished step and still write "
        "the outputs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = p.add_argument_group("data")
    d.add_argument("--dataset", choices=sorted(DATASETS), default="moons",
                   help="a generated toy dataset")
    d.add_argument("--csv", metavar="PATH", type=Path,
                   help="train on this CSV instead (numeric features, one label column)")
    d.add_argument("--label-column", type=integer, default=-1,
                   help="the CSV's label column (0-based; -1 is the last)")
    add_input_limit(d, f"{MAX_DATA_BYTES:,} for a data CSV")
    d.add_argument("--samples", type=positive_int, default=None,
                   help="points to generate (default: 100 for moons, 4 for xor, ...)")
    d.add_argument("--noise", type=nonnegative, default=None,
                   help="the dataset's noise (default: the generator's own, 0.1 for moons)")
    m = p.add_argument_group("model")
    m.add_argument("--hidden", type=_hidden, default=[16, 16], metavar="W1,W2,...",
                   help="hidden layer widths; the output width follows from the data and loss")
    m.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                   help="the hidden layers' activation")
    m.add_argument("--output-activation", choices=ACTIVATIONS, default=None,
                   help="the last layer's activation (default: sigmoid for bce, else linear)")
    m.add_argument("--init", choices=("auto", "he", "lecun", "uniform"), default="auto",
                   help="weight initialization (see nn.layers)")
    t = p.add_argument_group("training")
    t.add_argument("--loss", choices=sorted(LOSSES), default="hinge", help="the loss")
    t.add_argument("--l2", type=nonnegative, default=1e-4,
                   help="L2 penalty coefficient: loss + l2 * sum of squared parameters")
    t.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd")
    t.add_argument("--lr", type=nonnegative, default=None,
                   help="initial learning rate (default: 1.0 for sgd, 0.01 for adam/adamw)")
    t.add_argument("--lr-end", type=nonnegative, default=None,
                   help="learning rate at the last step, decaying linearly (default: lr / 10; "
                   "give --lr's value for a constant rate)")
    t.add_argument("--momentum", type=nonnegative, default=0.0, help="SGD momentum")
    t.add_argument("--weight-decay", type=nonnegative, default=None,
                   help="optimizer weight decay (default: 0, or 0.01 for adamw, decoupled)")
    t.add_argument("--epochs", type=positive_int, default=100, help="passes over the data")
    t.add_argument("--batch-size", type=positive_int, default=None,
                   help="examples per step (default: all of them, full batch)")
    t.add_argument("--seed", type=integer, default=1,
                   help="seeds the data, the initialization and the shuffling")
    t.add_argument("--compiled", action="store_true",
                   help="replay forward/backward over each batch with numpy (nn.compiled.trainer)")
    o = p.add_argument_group("output")
    o.add_argument("--out", type=Path, default=Path("edgegrad-output"), metavar="DIR",
                   help="directory for the files it writes")
    o.add_argument("--graph-max-nodes", type=positive_int, default=300,
                   help="beyond this many nodes, the graph drawing collapses neurons into boxes")
    o.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)



OUTPUTS = ("model.json", "history.json", "training.png", "boundary.png", "graph.svg",
           "graph.dot")
"""The files ``edgegrad train`` may write into --out."""

MAX_SAMPLES = 1_000_000
"""The most points --samples generates."""


def run(args: argparse.Namespace) -> int:
    """The ``train`` subcommand: 0 when trained, 2 for a bad argument (found before training),
    1 when something fails later, 128 + N when stopped by signal N (the outputs are written)."""
    def say(text: str) -> None:
        if not args.quiet:
            emit(text)

    try:
        setup = _setup(args)
    except (InputError, OSError, ValueError) as e:  # found before any training
        error("train", str(e))
        return 2
    ds, source, ys, model, opt, lr, lr_end, steps = setup
    loss = args.loss
    bar, plots = _extras(args.quiet)

    say(f"data:  {source}, {len(ds)} points, {ds.n_features} features, {ds.n_classes} classes")
    say(f"model: {model}, {model.num_parameters()} parameters")
    say(f"train: {loss} loss + L2 {args.l2:g}, {args.optimizer} lr {lr:g} -> {lr_end:g}, "
        f"{args.epochs} epochs, batch {args.batch_size or 'full'}"
        f"{', compiled' if args.compiled else ''}")
    with Signals() as signals:
        t0 = time.perf_counter()
        try:
            history = fit(model, ds.xs, ys, loss=loss, optimizer=opt,
                          schedule=LinearDecay(lr, lr_end, max(steps - 1, 1)),
                          epochs=args.epochs, batch_size=args.batch_size, l2=args.l2,
                          seed=args.seed, progress=bar, compiled=args.compiled)
        except KeyboardInterrupt:  # stopped before the first step began
            history = History(interrupted=True)
        signals.training = False
        seconds = time.perf_counter() - t0
        if signals.first is not None:
            say(f"stopped by {signals.name}: writing what the {history.steps} finished step(s) "
                "made (send it again to stop at once)")
        final_loss, final_acc = evaluate(model, ds.xs, ys, loss, args.l2)
        if not math.isfinite(final_loss):
            raise FloatingPointError(
                f"training diverged in its last step: the loss after it is {final_loss!r} "
                f"(the learning rate was {opt.lr:g}); nothing was written. Try a smaller --lr.")
        acc_text = "n/a" if final_acc is None else f"{final_acc:.1%}"
        state = "interrupted after" if history.interrupted else "trained"
        say(f"{state} {history.steps} steps in {seconds:.1f} s: loss {final_loss:.4g}, "
            f"accuracy {acc_text}")
        written, notes = _write_outputs(args, model, ds, ys, history, final_loss, final_acc,
                                        plots)
    if not args.quiet:
        width = max(len(str(p)) for p, _ in written)
        say("wrote:")
        for p, what in written:
            say(f"  {p!s:<{width}}  {what}")
        for n in notes:
            say(f"note: {n}")
    if signals.first is not None:
        return 128 + signals.first
    return 130 if history.interrupted else 0


def _setup(args: argparse.Namespace) -> tuple[Dataset, str, list[Any], MLP, Any, float, float,
                                               int]:
    """Everything training needs, from the options: every bad argument, input file or output
    path is refused here (ValueError, InputError or OSError), before any training."""
    if args.samples is not None and args.samples > MAX_SAMPLES:
        raise ValueError(f"--samples {args.samples} is more than {MAX_SAMPLES:,} points")
    ds, source = _dataset(args)
    loss = args.loss
    ys = ds.targets(loss)
    out_act = args.output_activation or ("sigmoid" if loss == "bce" else "linear")
    sizes = [*args.hidden, ds.n_outputs(loss)]
    count = parameter_count("MLP", {"nin": ds.n_features, "nouts": sizes})
    if count is not None and count > MAX_PARAMETERS:
        raise ValueError(f"an MLP {ds.n_features}-{'-'.join(map(str, sizes))} has {count:,} "
                         f"parameters; edgegrad train builds at most {MAX_PARAMETERS:,} (each "
                         "is a Python object): choose smaller --hidden layers")
    # The outputs' folder is checked (and made) now: a bad --out must not cost a training run.
    _check_out(args.out)
    model = MLP(ds.n_features, sizes, args.activation, out_act, seed=args.seed, init=args.init)
    default_lr = 1.0 if args.optimizer == "sgd" else 0.01
    lr = default_lr if args.lr is None else args.lr
    lr_end = lr / 10 if args.lr_end is None else args.lr_end
    steps = args.epochs * -(-len(ds) // (args.batch_size or len(ds)))
    opt = make_optimizer_named(args.optimizer, model.parameters(), lr=lr,
                               momentum=args.momentum, weight_decay=args.weight_decay)
    return ds, source, ys, model, opt, lr, lr_end, steps


def _write_outputs(args: argparse.Namespace, model: MLP, ds: Dataset, ys: list[Any],
                   history: History, final_loss: float, final_acc: float | None,
                   plots: bool) -> tuple[list[tuple[Path, str]], list[str]]:
    """Write every output into --out, each atomically, the model first; return what was
    written and notes on what was not."""
    out: Path = args.out
    written: list[tuple[Path, str]] = []
    written.append((model.save(out / "model.json"), "the trained model (nn.load_model reads it)"))
    hist = {"loss": history.loss, "accuracy": history.accuracy, "lr": history.lr,
            "steps": history.steps, "interrupted": history.interrupted,
            "final_loss": final_loss, "final_accuracy": final_acc}
    # allow_nan=False: strict JSON, which every parser reads (the numbers are all finite).
    atomic_write(out / "history.json", json.dumps(hist, indent=1, allow_nan=False) + "\n")
    written.append((out / "history.json", "loss, accuracy and learning rate per epoch"))
    notes = []
    if plots:
        plot_history(history, out / "training.png")
        written.append((out / "training.png", "loss and accuracy curves"))
        if ds.n_features == 2:
            plot_boundary(model, ds, args.loss, out / "boundary.png")
            written.append((out / "boundary.png", "the decision boundary with the data"))
        else:
            notes.append(f"no boundary.png: the data has {ds.n_features} features, not 2")
    # The example the model finds hardest: on an easy one the hinge loss is 0 and so is
    # every gradient in the drawing.
    i = hardest_example(model, ds.xs, ys, args.loss)
    graph, note = draw_example(model, ds.xs[i], ys[i], args.loss, out, args.graph_max_nodes)
    written.append((graph, f"the computation graph of the loss on example {i}, the hardest"))
    if note:
        notes.append(f"wrote DOT text instead of SVG: {note}")
    return written, notes


def _check_out(out: Path) -> None:
    """Make the folder ``out`` if missing, and check that every output can be written into it
    (``autograd.files.check_writable``); an OSError says why not."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} exists and is not a folder; give a folder for "
                                 "the outputs")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(e.errno, f"--out {out}: cannot make the folder: {e.strerror or e}"
                      ) from None
    for name in OUTPUTS:
        check_writable(out / name)


class Signals:
    """SIGINT, SIGTERM and SIGHUP while ``edgegrad train`` trains and writes its outputs.

    While ``training``, each stops training as Ctrl-C does: ``fit`` keeps the last finished
    step, and the outputs are then written. While the outputs are written, a first signal is
    only noted, so they are finished; a second one stops at once (each file is written
    atomically: none is left half-written). ``first`` is the first signal's number, or None.
    Handlers are installed only in the main thread, and the previous ones come back on exit.
    """

    NAMES = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.first: int | None = None
        self.training = True
        self._previous: dict[int, Any] = {}

    @property
    def name(self) -> str:
        return signal.Signals(self.first).name if self.first is not None else ""

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for name in self.NAMES:
                number = getattr(signal, name, None)
                if number is not None:
                    self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: Any) -> None:
        again = self.first is not None
        if not again:
            self.first = number
        if self.training or again:
            raise KeyboardInterrupt


def _dataset(args: argparse.Namespace) -> tuple[Dataset, str]:
    """The training data the options name, and how to name it in the summary."""
    if args.csv is not None:
        return (load_csv(args.csv, label_column=args.label_column,
                         limit=args.max_input_bytes or MAX_DATA_BYTES), f"{args.csv}")
    kw: dict[str, Any] = {"seed": args.seed}
    if args.samples is not None:
        kw["n"] = args.samples
    if args.noise is not None:
        kw["std" if args.dataset == "blobs" else "noise"] = args.noise
    return DATASETS[args.dataset](**kw), args.dataset


def _extras(quiet: bool) -> tuple[bool, bool]:
    """Whether to show the progress bar and to draw the plots: each needs an optional package.

    Says once, on stderr, what is skipped and how to install it.
    """
    bar = not quiet and _importable("tqdm.auto")
    plots = _importable("matplotlib.figure")
    skipped = []
    if not quiet and not bar:
        skipped.append("no progress bar (it needs tqdm)")
    if not plots:
        skipped.append("no plots (they need matplotlib)")
    if skipped:
        print(f"edgegrad train: note: {', '.join(skipped)}; {INSTALL_EXTRAS} installs "
              f"{'them' if len(skipped) > 1 else 'it'}", file=sys.stderr)
    return bar, plots


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
