"""Dataset layer: every learner reads its data through here, so comparisons share splits and preprocessing."""
from .dataset import Dataset
from .registry import DATASETS, load_dataset
from .splits import Prepared, Split, prepare, split

__all__ = ["DATASETS", "Dataset", "Prepared", "Split", "load_dataset", "prepare", "split"]
