"""to_pandas: one row per example of a split or subset, like tfds.as_dataframe.

    df = store.split("validation").to_pandas()
    df[df.box_labels.map(lambda names: "Dog" in names)]

pandas is imported only when called. Speed: the records are read in batches
(Split.examples, MultiAt without the GIL) and ids are formatted from the id
array, but each row's name lists are built in a Python loop over the
examples (not measured; far slower than a scan, so on the full dataset select
a subset first); for whole-split counts Split.stats() (C++) is the fast path.
image_size=True also reads each image's stored header (no decode).
"""

import numpy as np

from oiv4kv._oiv4kv import POSITIVE_CONFIDENCE
from oiv4kv._selection import positive_labels, split_and_indices

# Examples read per Split.examples call: bounds the views held at once.
_BATCH = 4096


def to_pandas(split_or_subset, *, image_size=False, config=None):
    """A pandas DataFrame, one row per example, in index order:

      id          the image id as 16 lower-case hex digits
      index       the example's index in its split
      filename    "image/filename", as TFDS gives it ("<id>.jpg")
      labels      display names of the positive image-level labels ("objects",
                  confidence >= POSITIVE_CONFIDENCE / 10), in record order
      box_labels  display names of the boxes' labels ("bobjects"), one per box
      boxes       the number of boxes

    With image_size=True, also `height` and `width` of the stored image in
    `config` (default: the store's default config), read from its header.
    """
    import pandas as pd

    split, indices = split_and_indices(split_or_subset)
    store = split.store
    all_names = np.asarray(store.vocabulary("all").names, dtype=object)
    box_names = np.asarray(store.vocabulary("boxable").names, dtype=object)
    ids = np.asarray(split.ids)[indices]
    labels, box_labels, boxes, filenames = [], [], [], []
    for start in range(0, len(indices), _BATCH):
        batch = split.examples(indices[start:start + _BATCH].astype(np.int64).tolist())
        for ex in batch:
            filenames.append(ex["image/filename"])
            labels.append(all_names[positive_labels(ex["objects"], POSITIVE_CONFIDENCE)].tolist())
            box = ex["bobjects"]["label"]
            box_labels.append(box_names[box].tolist())
            boxes.append(len(box))
    columns = {
        "id": [f"{i:016x}" for i in ids.tolist()],
        "index": indices.astype(np.int64),
        "filename": filenames,
        "labels": labels,
        "box_labels": box_labels,
        "boxes": np.asarray(boxes, dtype=np.int64),
    }
    if image_size:
        sizes = [split.image_size(int(i), config) for i in indices]
        columns["height"] = np.asarray([h for h, _ in sizes], dtype=np.int64)
        columns["width"] = np.asarray([w for _, w in sizes], dtype=np.int64)
    return pd.DataFrame(columns)
