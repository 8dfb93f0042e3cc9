"""edgegrad's neural-network library, built on the public API of its ``autograd`` engine."""

from ._guard import check_engine

check_engine()

from .data import DATASETS, Dataset, load_csv  # noqa: E402
from .grading.batch import grade_folder  # noqa: E402
from .grading.network import GradeReport, grade  # noqa: E402
from .grading.sheets import make_sheets  # noqa: E402
from .layers import MLP, Layer, Neuron, Trace, load_model  # noqa: E402
from .losses import LOSSES, accuracy, l2  # noqa: E402
from .module import ModelFileError, Module  # noqa: E402
from .optim import SGD, Adam, AdamW, LinearDecay  # noqa: E402

# The textbook oracle stays reachable as ``nn.deltas`` (``from nn import deltas``).
from .textbook import deltas  # noqa: E402, F401
from .textbook.compare import DeltaReport, compare  # noqa: E402
from .torch_bridge import from_torch, to_torch  # noqa: E402
from .train import History, evaluate, fit  # noqa: E402
from .watch.health import HealthReport, health  # noqa: E402

__all__ = [
    "LOSSES", "MLP", "Layer", "ModelFileError", "Module", "Neuron", "Trace",
    "accuracy", "l2", "load_model",
    "DATASETS", "Adam", "AdamW", "Dataset", "History", "LinearDecay", "SGD",
    "evaluate", "fit", "load_csv",
    "DeltaReport", "compare",
    "GradeReport", "grade",
    "HealthReport", "health", "from_torch", "to_torch",
    "grade_folder", "make_sheets",
]
