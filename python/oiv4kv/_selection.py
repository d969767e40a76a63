"""What show_examples and to_pandas accept: a Split, or a subset of one (any
object with `.split`, an oiv4kv.Split, and `.indices`, ascending uint64)."""

import numpy as np


def split_and_indices(split_or_subset):
    """(split, indices): the Split and the example indices (uint64 numpy) it
    selects; all of a Split's examples for a Split itself."""
    split = getattr(split_or_subset, "split", None)
    indices = getattr(split_or_subset, "indices", None)
    if split is not None and indices is not None:
        indices = np.asarray(indices, dtype=np.uint64)
        if indices.ndim != 1:
            raise ValueError(f"a subset's indices must be 1-D, not of shape {indices.shape}")
        if len(indices) and int(indices[-1]) >= len(split):
            raise IndexError(f"subset index {int(indices[-1])} out of range for split "
                             f"'{split.name}' of {len(split)} examples")
        return split, indices
    if hasattr(split_or_subset, "ids") and hasattr(split_or_subset, "examples"):
        return split_or_subset, np.arange(len(split_or_subset), dtype=np.uint64)
    raise TypeError("expected an oiv4kv.Split or a subset (.split and .indices), not "
                    f"{type(split_or_subset).__name__}")


def positive_labels(objects, threshold):
    """The label ids of `objects` (an example's "objects" dict) whose stored
    confidence (int(Confidence * 10)) is at least `threshold`."""
    return objects["label"][objects["confidence"] >= threshold]
