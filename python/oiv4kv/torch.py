"""PyTorch datasets over an oiv4-kv store.

    import torch, oiv4kv.torch as ot
    ds = ot.OpenImagesDataset("/data/oiv4", "train", config="300k")
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=True,
                                         num_workers=8, collate_fn=ot.collate)

    stream = ot.OpenImagesIterableDataset("/data/oiv4", "train", config="300k", seed=1)
    loader = torch.utils.data.DataLoader(stream, batch_size=32, num_workers=8,
                                         collate_fn=ot.collate)
    for epoch in range(epochs):
        stream.set_epoch(epoch)   # before iter(loader); persistent_workers=False
        for batch in loader: ...

Examples are TFDS-shaped dicts of tensors in TFDS's dtypes: "image" uint8
H x W x 3, "image/filename" str, "objects" and "objects_trainable" {"label"
int64, "confidence" int32, "source" int64}, "bobjects" {"bbox" float32 N x 4
(ymin, xmin, ymax, xmax), "label" int64, "source" int64, "is_occluded",
"is_truncated", "is_group_of", "is_depiction", "is_inside" int8}. Decoded
images become tensors without a copy; annotations are small and are copied
into the wider TFDS dtypes.

Workers: a Store opened in the main process is reopened by each forked
worker at its first read (the open indexes the annotations: about 0.6 s per
million examples), and pickled as its path for spawned workers. With
persistent_workers=True the workers open it once for all epochs.
"""

from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np
import torch
import torch.distributed
from torch.utils.data import Dataset, IterableDataset, get_worker_info

import oiv4kv

Example = Dict[str, Any]
Decode = Union[bool, "oiv4kv.DecodeOptions"]

_LABEL_DTYPES = {"label": np.int64, "confidence": np.int32, "source": np.int64}
_BOX_DTYPES = {"label": np.int64, "source": np.int64, "bbox": np.float32,
               "is_occluded": np.int8, "is_truncated": np.int8, "is_group_of": np.int8,
               "is_depiction": np.int8, "is_inside": np.int8}


def to_tensors(example: Example) -> Example:
    """The dict of numpy arrays oiv4kv returns, as tensors in TFDS's dtypes.

    A decoded image (its own writable buffer) becomes a tensor without a
    copy; the store's read-only annotation views are copied (astype), since a
    tensor must not alias memory it cannot write.
    """
    out: Example = {"image/filename": example["image/filename"]}
    for key in ("objects", "objects_trainable"):
        out[key] = {name: torch.from_numpy(example[key][name].astype(dtype))
                    for name, dtype in _LABEL_DTYPES.items()}
    out["bobjects"] = {name: torch.from_numpy(example["bobjects"][name].astype(dtype))
                       for name, dtype in _BOX_DTYPES.items()}
    if "image" in example:
        image = example["image"]
        # Encoded bytes are a read-only view of the store: copy those.
        out["image"] = torch.from_numpy(image if image.flags.writeable else image.copy())
    return out


# Fields up to this size are pickled by value when a worker sends a batch.
_BY_VALUE_BYTES = 256 * 1024


def _shared_empty(like: torch.Tensor, numel: int) -> torch.Tensor:
    """An empty 1-D tensor in shared memory, as default_collate makes in a
    worker: the batch then crosses to the main process without another copy."""
    try:  # torch >= 2.0
        storage = like._typed_storage()._new_shared(numel, device=like.device)
    except AttributeError:  # torch 1.13 (Debian 12)
        storage = like.storage()._new_shared(numel)
    return like.new(storage)[:numel]


class Ragged:
    """B tensors of different lengths as one batch field: ragged[i] is
    example i's tensor, len() is B, iteration gives the B tensors.

    In the process that collates, a Ragged just holds the B tensors (no
    copy). When it is pickled, as a DataLoader worker does to send a batch,
    the tensors are packed into one buffer (in shared memory inside a worker)
    with `row_splits`: PyTorch moves every tensor through its own
    shared-memory segment, so one buffer per field instead of B is what makes
    a batch cheap to send. The receiver's rows are views of that buffer.
    `values` and `row_splits` pack on demand: element i is
    values[row_splits[i]:row_splits[i + 1]] (flattened for images, whose
    shapes differ: see `shapes`).
    """

    def __init__(self, tensors: List[torch.Tensor], flat: bool = False):
        self._rows = list(tensors)
        self._flat = flat
        self._packed = None  # (values, row_splits, shapes)

    @classmethod
    def _from_packed(cls, values, row_splits, shapes) -> "Ragged":
        ragged = cls([], flat=shapes is not None)
        ragged._packed = (values, row_splits, shapes)
        n = len(row_splits) - 1
        parts = [values[int(row_splits[i]):int(row_splits[i + 1])] for i in range(n)]
        ragged._rows = ([p.view(*s) for p, s in zip(parts, shapes.tolist())]
                        if shapes is not None else parts)
        return ragged

    def _pack(self, shared: bool = True):
        """(values, row_splits, shapes); values in shared memory when
        `shared` and called in a DataLoader worker."""
        if self._packed is None:
            rows = [t.reshape(-1) for t in self._rows] if self._flat else self._rows
            lengths = torch.tensor([t.shape[0] for t in rows], dtype=torch.int64)
            row_splits = torch.zeros(len(rows) + 1, dtype=torch.int64)
            torch.cumsum(lengths, 0, out=row_splits[1:])
            if not rows:
                values = torch.empty(0)
            elif shared and get_worker_info() is not None:
                total = int(row_splits[-1])
                trailing = rows[0].shape[1:]
                flat = _shared_empty(rows[0], total * max(1, int(np.prod(trailing))))
                values = flat.view(total, *trailing)
                torch.cat(rows, out=values)
            else:
                values = torch.cat(rows)
            shapes = (torch.tensor([list(t.shape) for t in self._rows], dtype=torch.int64)
                      if self._flat else None)
            self._packed = (values, row_splits, shapes)
        return self._packed

    @property
    def values(self) -> torch.Tensor:
        return self._pack()[0]

    @property
    def row_splits(self) -> torch.Tensor:
        return self._pack()[1]

    @property
    def shapes(self) -> Optional[torch.Tensor]:
        """B x ndim shapes of the rows when they were flattened to pack."""
        return self._pack()[2]

    def lengths(self) -> torch.Tensor:
        return torch.tensor([t.shape[0] for t in self._rows], dtype=torch.int64)

    def __reduce__(self):
        # Receiving a tensor through shared memory costs ~1 ms here (a socket
        # round trip per segment), so small fields travel by value inside
        # the pickle; large ones (images) in one shared buffer.
        nbytes = sum(t.numel() * t.element_size() for t in self._rows)
        if nbytes > _BY_VALUE_BYTES:
            values, row_splits, shapes = self._pack()
        else:
            values, row_splits, shapes = self._pack(shared=False)
            values = values.numpy()
        return (Ragged._from_pickle, (values, row_splits.numpy(),
                                      None if shapes is None else shapes.numpy()))

    @classmethod
    def _from_pickle(cls, values, row_splits, shapes) -> "Ragged":
        as_tensor = lambda a: a if a is None or isinstance(a, torch.Tensor) else torch.from_numpy(a)
        return cls._from_packed(as_tensor(values), as_tensor(row_splits), as_tensor(shapes))

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self._rows[i]

    def __iter__(self):
        return iter(self._rows)

    def tolist(self) -> List[torch.Tensor]:
        return list(self._rows)

    def pin_memory(self) -> "Ragged":  # DataLoader(pin_memory=True) calls this
        values, row_splits, shapes = self._pack()
        return Ragged._from_packed(values.pin_memory(), row_splits, shapes)

    def to(self, *args, **kwargs) -> "Ragged":
        values, row_splits, shapes = self._pack()
        return Ragged._from_packed(values.to(*args, **kwargs), row_splits, shapes)

    def __repr__(self) -> str:
        return f"Ragged({len(self)} rows of {self._rows[0].dtype if self._rows else '?'})"


def collate(batch: List[Example]) -> Example:
    """Collates TFDS-shaped examples whose annotations have different lengths.

    Every annotation field becomes one Ragged (batch["bobjects"]["bbox"][i] is
    example i's N x 4 boxes); "image" is stacked into B x H x W x 3 when
    every image has the same shape (after a resizing transform, say) and a
    Ragged of the B images otherwise; "image/filename" is a list of str.
    Fields a transform added are stacked when they are tensors of one shape
    and listed otherwise.
    """
    out: Example = {"image/filename": [ex["image/filename"] for ex in batch]}
    for key in ("objects", "objects_trainable", "bobjects"):
        out[key] = {name: Ragged([ex[key][name] for ex in batch]) for name in batch[0][key]}
    for key in batch[0]:
        if key in out:
            continue
        values = [ex[key] for ex in batch]
        if all(isinstance(v, torch.Tensor) and v.shape == values[0].shape for v in values):
            out[key] = torch.stack(values)
        elif key == "image" and all(isinstance(v, torch.Tensor) for v in values):
            out[key] = Ragged(values, flat=True)
        else:
            out[key] = values
    return out


def _open(store: Union[str, "oiv4kv.Store"]) -> "oiv4kv.Store":
    return store if isinstance(store, oiv4kv.Store) else oiv4kv.Store(store)


def _decode_options(decode: Decode) -> Optional["oiv4kv.DecodeOptions"]:
    if isinstance(decode, oiv4kv.DecodeOptions):
        return decode
    return oiv4kv.DecodeOptions() if decode else None


class OpenImagesDataset(Dataset):
    """Map-style: dataset[i] is example i of the split (ids ascending).

    store: a path or an oiv4kv.Store. config: the image config (default: the
    store's first, as TFDS's default builder config); images=False leaves
    "image" out. decode: True (TFDS's RGB pixels), False (the stored JPEG
    bytes as a uint8 tensor) or an oiv4kv.DecodeOptions. transform: called on
    each example after the conversion to tensors (tensors=False: on the
    numpy dict as oiv4kv returns it).
    """

    def __init__(self, store: Union[str, "oiv4kv.Store"], split: str = "train", *,
                 config: Optional[str] = None, images: bool = True, decode: Decode = True,
                 tensors: bool = True, transform: Optional[Callable[[Example], Any]] = None):
        self.store = _open(store)
        self.split = split
        self.config = config
        self.images = images
        self.decode = _decode_options(decode)
        self.tensors = tensors
        self.transform = transform
        self._len = len(self.store.split(split))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> Any:
        split = self.store.split(self.split)
        example = split[index]
        if self.images:
            if self.decode is not None:
                example["image"] = split.decoded(index, self.config, self.decode)
            else:
                example["image"] = split.image(index, self.config)
        if self.tensors:
            example = to_tensors(example)
        return self.transform(example) if self.transform else example


def _rank_and_world() -> "tuple[int, int]":
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class OpenImagesIterableDataset(IterableDataset):
    """Streams one epoch of a split per iteration, in `order`, sharded so that
    every example is read exactly once per epoch across all ranks and
    DataLoader workers: worker k of K on rank r of w reads shard r * K + k of
    w * K. The order is a pure function of (seed, epoch, split size, order);
    call set_epoch(e) before iterating each epoch.

    Ranks come from torch.distributed when it is initialized, or from `rank`
    and `world_size`. Other arguments as in OpenImagesDataset and
    oiv4kv.Split.scan (order, seed, batch_size, prefetch_batches, block_size,
    window).
    """

    def __init__(self, store: Union[str, "oiv4kv.Store"], split: str = "train", *,
                 config: Optional[str] = None, images: bool = True, decode: Decode = True,
                 tensors: bool = True, transform: Optional[Callable[[Example], Any]] = None,
                 order: str = "shuffled", seed: int = 0, batch_size: int = 64,
                 prefetch_batches: int = 2, block_size: int = 256, window: int = 16,
                 rank: Optional[int] = None, world_size: Optional[int] = None):
        self.store = _open(store)
        self.split = split
        self.config = config if config is not None else (self.store.configs or [None])[0]
        self.images = images
        self.decode = _decode_options(decode)
        self.tensors = tensors
        self.transform = transform
        self.scan_options = dict(order=order, seed=seed, batch_size=batch_size,
                                 prefetch_batches=prefetch_batches, block_size=block_size,
                                 window=window)
        if (rank is None) != (world_size is None):
            raise ValueError("give both rank and world_size, or neither")
        if rank is not None and not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, {world_size})")
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self) -> "tuple[int, int]":
        """(shard_index, num_shards) of the calling worker."""
        rank, world = ((self.rank, self.world_size) if self.rank is not None
                       else _rank_and_world())
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank * workers + worker, world * workers

    def __iter__(self):
        shard_index, num_shards = self.shard()
        images = self.images and self.config is not None
        scan = self.store.split(self.split).scan(
            epoch=self.epoch, shard_index=shard_index, num_shards=num_shards,
            config=self.config if images else None,
            decode=self.decode if (images and self.decode is not None) else False,
            **self.scan_options)
        for example in scan:
            if self.tensors:
                example = to_tensors(example)
            yield self.transform(example) if self.transform else example
