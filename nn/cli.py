"""The ``edgegrad`` command (also ``python -m nn``): ``train``, plus ``deltas`` and ``draw``.

``edgegrad train`` with no options reproduces micrograd's demo: an MLP 2-16-16-1 on 100
two-moons points (noise 0.1), max-margin loss + L2 1e-4, 100 full-batch SGD steps with the
learning rate decaying linearly from 1.0 to 0.1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

SUBCOMMAND_MODULES = ("nn.deltas_cli", "nn.draw_cli")
"""Modules that add a subcommand: each has ``add_parser(subparsers)`` and ``run(args) -> int``."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (and a pointer to --help), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()] if text.strip() else []
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes comma-separated layer widths such as 16,16; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive; got {text!r}")
    return sizes


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return n


def _nonneg_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not x >= 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0; got {text!r}")
    return x


def add_train_parser(subparsers: Any) -> None:
    """Add ``train`` to the ``edgegrad`` subcommands."""
    from autograd import ACTIVATIONS

    from .data import DATASETS
    from .losses import LOSSES
    from .optim import OPTIMIZERS

    p = subparsers.add_parser(
        "train", help="train an MLP classifier and draw what it learned",
        description="Train an MLP on a toy dataset or your CSV; write the model (JSON), the "
        "training curves and decision boundary (PNG) and one example's computation graph "
        "(SVG, or DOT text without Graphviz) into --out. The defaults reproduce micrograd's "
        "demo (2-16-16-1 on 100 two-moons points, hinge + L2, 100 SGD steps, lr 1.0 -> 0.1).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = p.add_argument_group("data")
    d.add_argument("--dataset", choices=sorted(DATASETS), default="moons",
                   help="a generated toy dataset")
    d.add_argument("--csv", metavar="PATH", type=Path,
                   help="train on this CSV instead (numeric features, one label column)")
    d.add_argument("--label-column", type=int, default=-1,
                   help="the CSV's label column (0-based; -1 is the last)")
    d.add_argument("--samples", type=_positive_int, default=None,
                   help="points to generate (default: 100 for moons, 4 for xor, ...)")
    d.add_argument("--noise", type=_nonneg_float, default=None,
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
    t.add_argument("--l2", type=_nonneg_float, default=1e-4,
                   help="L2 penalty coefficient: loss + l2 * sum of squared parameters")
    t.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd")
    t.add_argument("--lr", type=_nonneg_float, default=None,
                   help="initial learning rate (default: 1.0 for sgd, 0.01 for adam/adamw)")
    t.add_argument("--lr-end", type=_nonneg_float, default=None,
                   help="learning rate at the last step, decaying linearly (default: lr / 10; "
                   "give --lr's value for a constant rate)")
    t.add_argument("--momentum", type=_nonneg_float, default=0.0, help="SGD momentum")
    t.add_argument("--weight-decay", type=_nonneg_float, default=None,
                   help="optimizer weight decay (default: 0, or 0.01 for adamw, decoupled)")
    t.add_argument("--epochs", type=_positive_int, default=100, help="passes over the data")
    t.add_argument("--batch-size", type=_positive_int, default=None,
                   help="examples per step (default: all of them, full batch)")
    t.add_argument("--seed", type=int, default=1,
                   help="seeds the data, the initialization and the shuffling")
    t.add_argument("--compiled", action="store_true",
                   help="replay forward/backward over each batch with numpy (nn.compiled)")
    o = p.add_argument_group("output")
    o.add_argument("--out", type=Path, default=Path("edgegrad-output"), metavar="DIR",
                   help="directory for the files it writes")
    o.add_argument("--graph-max-nodes", type=_positive_int, default=300,
                   help="beyond this many nodes, the graph drawing collapses neurons into boxes")
    o.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` subcommand."""
    from . import data as datamod
    from .layers import MLP
    from .optim import LinearDecay, make_optimizer_named
    from .train import evaluate, fit

    def say(text: str) -> None:
        if not args.quiet:
            print(text, flush=True)

    if args.csv is not None:
        ds = datamod.load_csv(args.csv, label_column=args.label_column)
        source = f"{args.csv}"
    else:
        kw: dict[str, Any] = {"seed": args.seed}
        if args.samples is not None:
            kw["n"] = args.samples
        if args.noise is not None:
            kw["std" if args.dataset == "blobs" else "noise"] = args.noise
        ds = datamod.DATASETS[args.dataset](**kw)
        source = args.dataset
    loss = args.loss
    ys = ds.targets(loss)
    out_act = args.output_activation or ("sigmoid" if loss == "bce" else "linear")
    sizes = [*args.hidden, ds.n_outputs(loss)]
    model = MLP(ds.n_features, sizes, args.activation, out_act, seed=args.seed, init=args.init)
    default_lr = 1.0 if args.optimizer == "sgd" else 0.01
    lr = default_lr if args.lr is None else args.lr
    lr_end = lr / 10 if args.lr_end is None else args.lr_end
    steps = args.epochs * -(-len(ds) // (args.batch_size or len(ds)))
    opt = make_optimizer_named(args.optimizer, model.parameters(), lr=lr,
                               momentum=args.momentum, weight_decay=args.weight_decay)

    say(f"data:  {source}, {len(ds)} points, {ds.n_features} features, {ds.n_classes} classes")
    say(f"model: {model}, {model.num_parameters()} parameters")
    say(f"train: {loss} loss + L2 {args.l2:g}, {args.optimizer} lr {lr:g} -> {lr_end:g}, "
        f"{args.epochs} epochs, batch {args.batch_size or 'full'}"
        f"{', compiled' if args.compiled else ''}")
    t0 = time.perf_counter()
    history = fit(model, ds.xs, ys, loss=loss, optimizer=opt,
                  schedule=LinearDecay(lr, lr_end, max(steps - 1, 1)), epochs=args.epochs,
                  batch_size=args.batch_size, l2=args.l2, seed=args.seed,
                  progress=not args.quiet, compiled=args.compiled)
    seconds = time.perf_counter() - t0
    final_loss, final_acc = evaluate(model, ds.xs, ys, loss, args.l2)
    acc_text = "n/a" if final_acc is None else f"{final_acc:.1%}"
    state = "interrupted after" if history.interrupted else "trained"
    say(f"{state} {history.steps} steps in {seconds:.1f} s: loss {final_loss:.4g}, "
        f"accuracy {acc_text}")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, str]] = []
    written.append((model.save(out / "model.json"), "the trained model (nn.load_model reads it)"))
    hist = {"loss": history.loss, "accuracy": history.accuracy, "lr": history.lr,
            "steps": history.steps, "interrupted": history.interrupted,
            "final_loss": final_loss, "final_accuracy": final_acc}
    (out / "history.json").write_text(json.dumps(hist, indent=1) + "\n", encoding="utf-8")
    written.append((out / "history.json", "loss, accuracy and learning rate per epoch"))
    notes = []
    try:
        from .demo import draw_example, hardest_example, plot_boundary, plot_history

        plot_history(history, out / "training.png")
        written.append((out / "training.png", "loss and accuracy curves"))
        if ds.n_features == 2:
            plot_boundary(model, ds, loss, out / "boundary.png")
            written.append((out / "boundary.png", "the decision boundary with the data"))
        else:
            notes.append(f"no boundary.png: the data has {ds.n_features} features, not 2")
    except ImportError as e:
        notes.append(f"no plots: {e}")
    # The example the model finds hardest: on an easy one the hinge loss is 0 and so is
    # every gradient in the drawing.
    i = hardest_example(model, ds.xs, ys, loss)
    graph, note = draw_example(model, ds.xs[i], ys[i], loss, out, args.graph_max_nodes)
    written.append((graph, f"the computation graph of the loss on example {i}, the hardest"))
    if note:
        notes.append(f"wrote DOT text instead of SVG: {note}")
    if not args.quiet:
        width = max(len(str(p)) for p, _ in written)
        print("wrote:")
        for p, what in written:
            print(f"  {p!s:<{width}}  {what}")
        for n in notes:
            print(f"note: {n}")
    return 130 if history.interrupted else 0


def build_parser() -> Parser:
    """The ``edgegrad`` argument parser with every available subcommand."""
    parser = Parser(prog="edgegrad",
                    description="edgegrad: see, teach and check backpropagation.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    add_train_parser(sub)
    for name in SUBCOMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``edgegrad`` with ``argv`` (default: the command line); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad argument (already reported in one line)
        return e.code if isinstance(e.code, int) else 2
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, ImportError, FloatingPointError) as e:
        print(f"{parser.prog} {args.command}: error: {e}", file=sys.stderr)
        return 1
    return status
