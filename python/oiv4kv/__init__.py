"""oiv4-kv: Open Images V4, as TFDS's `open_images_v4` defines it, read from a
RocksDB store written by `oiv4-kv convert`, without copies.

    import oiv4kv
    store = oiv4kv.Store("/data/oiv4")
    train = store.split("train")
    example = train[0]                 # TFDS-shaped dict of numpy views
    pixels = train.decoded(0, "300k")  # H x W x 3 uint8
    for ex in train.scan(order="shuffled", seed=1, epoch=0, config="300k", decode=True):
        ...
    for batch in oiv4kv.Loader(store, "train", batch_size=256, size=(224, 224), seed=1):
        images = batch["image"]        # B x 224 x 224 x 3 uint8, valid until the next batch
    dogs = train.select("box:Dog")     # an oiv4kv.Subset: len, [i], ids, scan, as a split
    for batch in oiv4kv.Loader(store, dogs, batch_size=64):   # only the subset's examples
        ...

The PyTorch adaptor is `oiv4kv.torch` (importing this module does not import
torch).
"""

from oiv4kv._oiv4kv import (  # noqa: F401
    CONFIGS,
    SCHEMA_VERSION,
    SPLITS,
    CorruptionError,
    DecodeOptions,
    Error,
    InvalidArgumentError,
    Loader,
    NotFoundError,
    NotSupportedError,
    ScanIterator,
    Split,
    Store,
    StoreIOError,
    Subset,
    TRANSFORMS,
    TransformOptions,
    Vocabulary,
    __version__,
    decode,
)
from oiv4kv._oiv4kv import ClassAwareSampler, RepeatFactorSampler, Sampler  # noqa: F401

__all__ = [
    "CONFIGS", "SCHEMA_VERSION", "SPLITS", "CorruptionError", "DecodeOptions", "Error",
    "InvalidArgumentError", "Loader", "NotFoundError", "NotSupportedError", "ScanIterator", "Split",
    "Store", "StoreIOError", "Subset", "TRANSFORMS", "TransformOptions", "Vocabulary", "decode",
]
__all__ += ["ClassAwareSampler", "RepeatFactorSampler", "Sampler"]

# Looking at a split or subset (issue 15): pictures, a DataFrame, the figures.
# matplotlib and pandas are imported only when these are called.
from oiv4kv._oiv4kv import POSITIVE_CONFIDENCE  # noqa: E402,F401
from oiv4kv.frames import to_pandas  # noqa: E402
from oiv4kv.show import show_examples  # noqa: E402

Split.to_pandas = to_pandas
Subset.to_pandas = to_pandas
__all__ += ["POSITIVE_CONFIDENCE", "show_examples", "to_pandas"]
