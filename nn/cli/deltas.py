"""``edgegrad deltas``: check autograd's gradients against the textbook delta rule.

With no arguments it builds a small random tanh network (2-4-1, linear output), takes five
two-moons examples and the sum-of-squares loss, and prints the side-by-side report. Exit status:
0 when every delta and gradient agrees, 1 on a mismatch, 2 on bad arguments or inputs.
"""

from __future__ import annotations

import argparse
import random
from typing import Any

from ..data import DATASETS, MAX_DATA_BYTES, load_csv
from ..layers import MLP, load_model, parameter_count
from ..losses import LOSSES
from ..module import MAX_MODEL_BYTES, MAX_PARAMETERS, ModelFileError
from ..textbook.compare import compare, engine_backprop
from ..textbook.deltas import ACTIVATIONS, backprop
from .arguments import add_input_limit, integer, nonnegative
from .messages import emit, error

EXAMPLE = """examples:
  edgegrad deltas                                  # 2-4-1 tanh net, 5 two-moons points, sse
  edgegrad deltas --sizes 8,8,1 --activation relu --loss hinge -n 20
  edgegrad deltas --dataset blobs --loss softmax_ce --details
  edgegrad deltas --model out/model.json --csv points.csv --loss bce_logits
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``deltas`` subcommand to an argparse subparsers object (``func=run``)."""
    p = subparsers.add_parser(
        "deltas",
        help="compare autograd's gradients with the textbook delta rule",
        description="Run one model on a few examples through autograd and through the\n"
                    "textbook delta rule (Bishop, PRML 5.3; written without the engine), and\n"
                    "print per layer the largest differences of the deltas dE/da_j and of the\n"
                    "weight and bias gradients. The loss is summed over the examples.\n"
                    "Exit status: 0 when they agree, 1 when they disagree, 2 on bad input.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    model = p.add_argument_group("model (a JSON file, or a new random MLP)")
    model.add_argument("--model", metavar="JSON",
                       help="a model saved by edgegrad (e.g. by `edgegrad train`)")
    model.add_argument("--sizes", default=None, metavar="W,...,K",
                       help="widths of the hidden layers and the output layer of a new MLP "
                            "(default: 4 hidden, and the outputs the loss and data need)")
    model.add_argument("--activation", default="tanh", choices=list(ACTIVATIONS),
                       metavar="NAME", help="hidden activation of a new MLP (default: tanh; "
                                            f"one of {', '.join(ACTIVATIONS)})")
    model.add_argument("--output-activation", default=None, choices=list(ACTIVATIONS),
                       metavar="NAME",
                       help="output activation of a new MLP (default: sigmoid for bce, "
                            "else linear)")
    model.add_argument("--seed", type=integer, default=0,
                       help="seed for the new MLP's weights and the dataset (default: 0)")
    data = p.add_argument_group("data")
    src = data.add_mutually_exclusive_group()
    src.add_argument("--dataset", choices=sorted(DATASETS), default="moons",
                     help="a generated dataset (default: moons)")
    src.add_argument("--csv", metavar="FILE",
                     help="a CSV of numeric features and a label column")
    data.add_argument("--label-column", type=integer, default=-1,
                      help="the CSV's label column (default: -1, the last)")
    add_input_limit(data, f"{MAX_MODEL_BYTES:,} for a model file, {MAX_DATA_BYTES:,} for a "
                          "data CSV")
    data.add_argument("-n", "--examples", type=integer, default=5,
                      help="how many examples to use, from the start (default: 5)")
    p.add_argument("--loss", choices=list(LOSSES), default="sse",
                   help="per-example loss, summed over the examples (default: sse)")
    p.add_argument("--rtol", type=nonnegative, default=1e-10,
                   help="relative tolerance, a finite number >= 0 (1e-10)")
    p.add_argument("--atol", type=nonnegative, default=1e-12,
                   help="absolute tolerance, a finite number >= 0 (1e-12)")
    p.add_argument("--details", action="store_true",
                   help="also print every example's deltas from both, neuron by neuron")
    p.set_defaults(func=run)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise ValueError(f"--sizes takes comma-separated positive widths like 4,1; "
                         f"got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"--sizes takes comma-separated positive widths like 4,1; got {text!r}")
    return sizes


def _build(args: argparse.Namespace) -> tuple[Any, list[list[float]], list[Any], str]:
    if args.examples < 1:
        raise ValueError(f"-n/--examples must be at least 1; got {args.examples}")
    if args.csv:
        ds = load_csv(args.csv, label_column=args.label_column,
                      limit=args.max_input_bytes or MAX_DATA_BYTES)
        source = f"{args.csv}"
    else:
        ds = DATASETS[args.dataset](seed=args.seed)
        source = f"{args.dataset} (seed {args.seed})"
    n = min(args.examples, len(ds))
    xs = ds.xs[:n]
    ys = ds.targets(args.loss)[:n]
    if args.model:
        model = load_model(args.model, limit=args.max_input_bytes or MAX_MODEL_BYTES)
        if not hasattr(model, "layers"):
            raise ValueError(f"{args.model} holds a {type(model).__name__}; edgegrad deltas "
                             "needs an MLP")
    else:
        out = ds.n_outputs(args.loss)
        sizes = [4, out] if args.sizes is None else _sizes(args.sizes)
        if sizes[-1] != out:
            raise ValueError(f"--sizes ends in {sizes[-1]} output(s), but loss {args.loss!r} on "
                             f"{ds.n_classes} classes needs {out}; try --sizes "
                             f"{','.join(str(s) for s in [*sizes[:-1], out])}")
        count = parameter_count("MLP", {"nin": ds.n_features, "nouts": sizes})
        if count is not None and count > MAX_PARAMETERS:
            raise ValueError(f"--sizes {args.sizes} makes an MLP of {count:,} parameters; "
                             f"edgegrad deltas builds at most {MAX_PARAMETERS:,}")
        out_act = args.output_activation or ("sigmoid" if args.loss == "bce" else "linear")
        model = MLP(ds.n_features, sizes, activation=args.activation,
                    output_activation=out_act, seed=args.seed)
        # nn starts every bias at 0; small random biases make the check see them at work.
        rng = random.Random(args.seed + 1)
        for layer in model.layers:
            for neuron in layer.neurons:
                neuron.b.data = rng.uniform(-0.5, 0.5)
    return model, xs, ys, f"{n} example(s) from {source}"


def _details(model: Any, xs: list[list[float]], ys: list[Any], loss: str) -> str:
    e = engine_backprop(model, xs, ys, loss)
    o = backprop(model, xs, ys, loss)
    lines = ["", "deltas dE_n/da_j, example by example (autograd | delta rule):"]
    for n, (ee, eo) in enumerate(zip(e.examples, o.examples)):
        t = f"class {int(eo.target[0])}" if loss == "softmax_ce" else str(eo.target)
        lines.append(f"example {n}: x = {[round(v, 4) for v in eo.x]}, target {t}, "
                     f"E_n = {eo.loss:.6g}")
        for li in range(len(eo.layers) - 1, -1, -1):
            for j, (de, do) in enumerate(zip(ee.layers[li].delta, eo.layers[li].delta)):
                lines.append(f"  layer {li} neuron {j}: {de: .12e} | {do: .12e}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """The ``edgegrad deltas`` command: print the report; 0 agree, 1 mismatch, 2 bad input."""
    try:
        model, xs, ys, what = _build(args)
        report = compare(model, xs, ys, loss=args.loss, rtol=args.rtol, atol=args.atol)
    except (ValueError, TypeError, OSError, ModelFileError) as e:
        error("deltas", str(e))
        return 2
    emit(f"{what}; model {model!r}")
    emit(str(report), limit=None)
    if args.details:
        emit(_details(model, xs, ys, args.loss), limit=None)
    return 0 if report.ok else 1
