"""PyTorch datasets over an oiv4-kv store.

    import torch, oiv4kv.torch as ot
    ds = ot.OpenImagesDataset("/data/oiv4", "train", config="300k")
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=True,
                                         num_workers=8, collate_fn=ot.collate)

    stream = ot.OpenImagesIterableDataset("/data/oiv4", "train", config="300k", seed=1,
                                          batch_size=32)
    loader = stream.loader(num_workers=8, persistent_workers=True)
    for epoch in range(epochs):
        stream.set_epoch(epoch)   # before iter(loader); reaches persistent workers
        for batch in loader:
            ...
            checkpoint = stream.state_dict()   # stream.load_state_dict(checkpoint) resumes

    # Class-balanced epochs (repeat-factor or class-aware) for a map-style dataset:
    balanced = oiv4kv.RepeatFactorSampler(oiv4kv.Store("/data/oiv4").split("train"))
    sampler = ot.ClassBalancedSampler(balanced, seed=1)    # set_epoch(e) each epoch
    loader = torch.utils.data.DataLoader(ds, batch_size=32, sampler=sampler,
                                         collate_fn=ot.collate)

    # Augmented batches from native threads in this process (no workers):
    loader = ot.Loader("/data/oiv4", "train", batch_size=256, size=(224, 224), seed=1)
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for batch in loader:       # batch["image"]: 256 x 224 x 224 x 3 uint8
            ...

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

import multiprocessing
import multiprocessing.context
import os
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


_ANNOTATIONS = ("objects", "objects_trainable", "bobjects")


def _collate_field(key: str, values: List[Any]) -> Any:
    first = values[0]
    if isinstance(first, dict):
        for i, v in enumerate(values):
            if not isinstance(v, dict):
                raise TypeError(f"collate: field {key!r} is a dict in example 0 but "
                                f"{type(v).__name__} in example {i}")
        if key in _ANNOTATIONS:  # per-example annotation lists: always Ragged
            return {name: Ragged([v[name] for v in values]) for name in first}
        return {name: _collate_field(f"{key}/{name}", [_item(v, name, key, i)
                                                     for i, v in enumerate(values)])
                for name in first}
    if all(isinstance(v, np.ndarray) and v.dtype != object for v in values):
        values = [torch.from_numpy(np.ascontiguousarray(v)) for v in values]
    if all(isinstance(v, torch.Tensor) for v in values):
        if all(v.shape == values[0].shape for v in values):
            return torch.stack(values)
        if key != "image" and all(v.dim() >= 1 and v.shape[1:] == values[0].shape[1:]
                                  for v in values):
            return Ragged(values)  # rows of one width: N_i x ...
        return Ragged(values, flat=True)
    if all(isinstance(v, (bool, int, float, np.number, np.bool_)) for v in values):
        return torch.utils.data.default_collate(values)
    return list(values)  # strings and anything else: one list


def _item(example: Example, name: str, parent: str, index: int) -> Any:
    try:
        return example[name]
    except KeyError:
        raise KeyError(f"collate: example {index} has no field {parent + '/' + name if parent else name!r}"
                       f" that example 0 has") from None


def collate(batch: List[Example]) -> Example:
    """Collates the dicts of a batch, whatever a transform made of them.

    Fields it knows: every annotation field ("objects", "objects_trainable",
    "bobjects") becomes one Ragged (batch["bobjects"]["bbox"][i] is example
    i's N x 4 boxes); "image" is stacked into B x H x W x 3 when every image
    has the same shape (after a resizing transform, say) and a flat Ragged of
    the B images otherwise. Any other field: tensors (or numpy arrays) of one
    shape are stacked; tensors of different shapes become a Ragged (rows split
    along the first dimension when the other dimensions agree, flattened
    otherwise), so they travel in one shared buffer too; numbers become a
    tensor as default_collate makes them; strings and anything else are listed
    (batch["image/filename"] is a list of str); dicts are collated field by
    field. Every example must have the fields of the first.
    """
    if not batch:
        return {}
    return {key: _collate_field(key, [_item(ex, key, "", i) for i, ex in enumerate(batch)])
            for key in batch[0]}


def _open(store: Union[str, "oiv4kv.Store"]) -> "oiv4kv.Store":
    return store if isinstance(store, oiv4kv.Store) else oiv4kv.Store(store)


def _split_of(store: "oiv4kv.Store",
              split: Union[str, "oiv4kv.Subset"]) -> Union["oiv4kv.Split", "oiv4kv.Subset"]:
    """What a dataset reads: the store's split of that name, or the Subset given
    (Split.select / Split.subset), whose positions 0..len-1 are its examples."""
    return split if isinstance(split, oiv4kv.Subset) else store.split(split)


def _subset_identity(split: Union[str, "oiv4kv.Subset"]) -> Optional[str]:
    """For a state's identity: which subset (its size and a digest of its
    indices), None for a whole split."""
    if not isinstance(split, oiv4kv.Subset):
        return None
    import hashlib
    return f"{len(split)}:{hashlib.sha1(split.indices.tobytes()).hexdigest()[:16]}"


def _decode_options(decode: Decode) -> Optional["oiv4kv.DecodeOptions"]:
    if isinstance(decode, oiv4kv.DecodeOptions):
        return decode
    return oiv4kv.DecodeOptions() if decode else None


class OpenImagesDataset(Dataset):
    """Map-style: dataset[i] is example i of the split (ids ascending), or of
    the oiv4kv.Subset given as `split` (split.select("box:Dog")).

    store: a path or an oiv4kv.Store. config: the image config (default:
    store.default_config, the first complete of 300k, 200k, original, as the
    command line picks it); images=False leaves
    "image" out. decode: True (TFDS's RGB pixels), False (the stored JPEG
    bytes as a uint8 tensor) or an oiv4kv.DecodeOptions. transform: called on
    each example after the conversion to tensors (tensors=False: on the
    numpy dict as oiv4kv returns it).
    """

    def __init__(self, store: Union[str, "oiv4kv.Store"],
                 split: Union[str, "oiv4kv.Subset"] = "train", *,
                 config: Optional[str] = None, images: bool = True, decode: Decode = True,
                 tensors: bool = True, transform: Optional[Callable[[Example], Any]] = None):
        self.store = _open(store)
        self.split = split
        self.config = config
        self.images = images
        self.decode = _decode_options(decode)
        self.tensors = tensors
        self.transform = transform
        self._len = len(_split_of(self.store, split))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> Any:
        split = _split_of(self.store, self.split)
        example = split[index]
        if self.images:
            if self.decode is not None:
                example["image"] = split.decoded(index, self.config, self.decode)
            else:
                example["image"] = split.image(index, self.config)
        if self.tensors:
            example = to_tensors(example)
        return self.transform(example) if self.transform else example


def _distributed() -> "Optional[tuple[int, int]]":
    """(rank, world) of an initialized torch.distributed, else None."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return None


def _from_environment() -> "Optional[tuple[int, int]]":
    """(RANK, WORLD_SIZE) as torchrun sets them, else None."""
    try:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    except (KeyError, ValueError):
        return None
    return (rank, world) if 0 <= rank < world else None


def _rank_and_world(rank: Optional[int], world_size: Optional[int]) -> "tuple[int, int]":
    """rank and world_size if given (both or neither), else torch.distributed's
    when it is initialized, else RANK/WORLD_SIZE from the environment, else
    0 of 1."""
    if (rank is None) != (world_size is None):
        raise ValueError("give both rank and world_size, or neither")
    if rank is None:
        return _distributed() or _from_environment() or (0, 1)
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, {world_size})")
    return rank, world_size


def _check_state(state: Dict[str, Any], version: int, fields, mine: Dict[str, Any]) -> None:
    """ValueError unless `state` has `version` and the `fields` of `mine`,
    naming the first field that differs and both values."""
    if state.get("version") != version:
        raise ValueError(f"load_state_dict: state version {state.get('version')!r}, "
                         f"this oiv4kv reads version {version}")
    for name in fields:
        if state.get(name) != mine[name]:
            raise ValueError(f"load_state_dict: the state is of another sequence: {name} "
                             f"is {state.get(name)!r} in the state but {mine[name]!r} here")


# Slots of the dataset's shared array: what the main process sets between
# epochs and every worker, persistent or not, reads when its iteration starts.
_EPOCH, _RESUME_EPOCH, _RESUME_AT = 0, 1, 2
_STATE_VERSION = 1
# The fields of state_dict() that must match the dataset it is loaded into.
_STATE_IDENTITY = ("split", "subset", "examples", "order", "seed", "block_size", "window", "batch_size",
                   "rank", "world_size", "drop_last", "pad")


class OpenImagesIterableDataset(IterableDataset):
    """Streams one epoch of a split per iteration, in `order`, every example
    once per epoch across all ranks (unless `pad` repeats a few).

    The epoch's order is a pure function of (seed, epoch, split size, order,
    block_size, window), as oiv4kv.Split.scan's. Rank r of w takes shard r of
    w of it: its "rank sequence" (shards differ in size by at most 1;
    drop_last=True cuts every rank to the shortest, pad=True repeats the
    start of the epoch's order to fill every rank to the longest). The rank
    sequence is cut into batches of `batch_size`; DataLoader worker k of K
    reads batches k, k + K, k + 2K, ..., which is the order in which the
    DataLoader takes batches from its workers: a DataLoader with
    batch_size=self.batch_size (use `loader()`) delivers the rank sequence in
    order, for any number of workers.

    Rank and world: `rank=`/`world_size=`, else torch.distributed's when it
    is initialized at construction, else RANK/WORLD_SIZE from the environment
    (torchrun), else 0 of 1 provisionally: a later call in the main process
    (set_epoch, len, loader(), state_dict, iterating) takes torch.distributed's
    once it is initialized, and so does starting spawned or forkserver
    workers (the dataset is pickled in the main process then); a forked
    worker takes torch.distributed's from the main process it copies. They
    are attributes, so workers get them with the dataset; a worker that is
    told another rank by RANK/WORLD_SIZE than the dataset's provisional 0 of
    1 raises instead of reading the wrong shard.

    set_epoch(e) writes the epoch into shared memory that every worker reads
    when its iteration starts, so it reaches persistent workers too.
    state_dict()/load_state_dict() save and restore the position of the
    current epoch (what loader() delivered); see their docs. Other arguments
    as in OpenImagesDataset and oiv4kv.Split.scan. `split` may be an
    oiv4kv.Subset: the epoch then permutes and shards its examples only, and
    a state of one subset is refused by a dataset over another.
    """

    def __init__(self, store: Union[str, "oiv4kv.Store"],
                 split: Union[str, "oiv4kv.Subset"] = "train", *,
                 config: Optional[str] = None, images: bool = True, decode: Decode = True,
                 tensors: bool = True, transform: Optional[Callable[[Example], Any]] = None,
                 order: str = "shuffled", seed: int = 0, batch_size: int = 64,
                 prefetch_batches: int = 2, block_size: int = 256, window: int = 16,
                 rank: Optional[int] = None, world_size: Optional[int] = None,
                 drop_last: bool = False, pad: bool = False):
        self.store = _open(store)
        self.split = split
        self.config = config if config is not None else self.store.default_config
        self.images = images
        self.decode = _decode_options(decode)
        self.tensors = tensors
        self.transform = transform
        if order not in ("sequential", "shuffled", "block_shuffled"):
            raise ValueError(f"order must be 'sequential', 'shuffled' or 'block_shuffled', "
                             f"not {order!r}")
        for name, value in (("batch_size", batch_size), ("block_size", block_size),
                            ("window", window)):
            if value <= 0:
                raise ValueError(f"{name} must be > 0, not {value}")
        self.order, self.seed, self.batch_size = order, seed, batch_size
        self.block_size, self.window = block_size, window
        self.prefetch_batches = prefetch_batches  # kept for compatibility; reads are per batch
        if drop_last and pad:
            raise ValueError("drop_last and pad exclude each other: pick one")
        self.drop_last, self.pad = drop_last, pad
        self.num_examples = len(_split_of(self.store, split))
        if (rank is None) != (world_size is None):
            raise ValueError("give both rank and world_size, or neither")
        if rank is not None:
            if not 0 <= rank < world_size:
                raise ValueError(f"rank {rank} is not in [0, {world_size})")
            self.rank, self.world_size, self.rank_source = rank, world_size, "given"
        else:
            self._resolve()
        self._shared = multiprocessing.RawArray("q", 3)
        self._shared[_RESUME_EPOCH] = -1
        self._delivered = 0  # examples of the current epoch that loader() delivered

    # -- rank and world -------------------------------------------------------

    def _resolve(self) -> None:
        found = _distributed()
        if found is not None:
            (self.rank, self.world_size), self.rank_source = found, "torch.distributed"
            return
        found = _from_environment()
        if found is not None:
            (self.rank, self.world_size), self.rank_source = found, "environment"
            return
        self.rank, self.world_size, self.rank_source = 0, 1, "provisional"

    def _in_main_process(self) -> None:
        """Called by every entry point of the main process."""
        if get_worker_info() is None and self.rank_source == "provisional":
            self._resolve()

    def _check_worker(self) -> None:
        """In a worker of a dataset still at its provisional 0 of 1: a forked
        worker inherits an initialized torch.distributed and takes it (the
        truth of this process tree); otherwise, a worker told otherwise by
        the environment refuses to guess."""
        if self.rank_source != "provisional":
            return
        found = _distributed()
        if found is not None:
            (self.rank, self.world_size), self.rank_source = found, "torch.distributed"
            return
        found = _from_environment()
        if found is not None and found != (0, 1):
            raise RuntimeError(
                f"OpenImagesIterableDataset: this DataLoader worker runs on rank {found[0]} of "
                f"{found[1]} (RANK/WORLD_SIZE), but the dataset assumed rank 0 of 1 and "
                f"would read another rank's examples: pass rank= and world_size=, or build "
                f"the dataset after init_process_group")

    # -- epochs, length -------------------------------------------------------

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iteration reads, in every worker (persistent or
        not). Call it in the main process before iterating."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, not {epoch}")
        self._in_main_process()
        self._shared[_EPOCH] = epoch
        if self._shared[_RESUME_EPOCH] != epoch:
            self._delivered = 0

    @property
    def epoch(self) -> int:
        return int(self._shared[_EPOCH])

    @epoch.setter
    def epoch(self, epoch: int) -> None:
        self.set_epoch(epoch)

    def _shard_bounds(self, k: int) -> "tuple[int, int]":
        n, w = self.num_examples, self.world_size
        begin = k * (n // w) + min(k, n % w)
        return begin, begin + n // w + (1 if k < n % w else 0)

    def __len__(self) -> int:
        """Examples of this rank per epoch: n // world with drop_last,
        ceil(n / world) with pad, else this rank's shard (the first n % world
        ranks hold one more)."""
        self._in_main_process()
        n, w = self.num_examples, self.world_size
        if self.drop_last:
            return n // w
        if self.pad:
            return -(-n // w)
        begin, end = self._shard_bounds(self.rank)
        return end - begin

    def rank_indices(self, epoch: Optional[int] = None) -> np.ndarray:
        """This rank's sequence of an epoch: example indices of the split (of
        a Subset: the split's indices of its examples), in the order the
        DataLoader delivers them."""
        epoch = self.epoch if epoch is None else epoch
        order = _split_of(self.store, self.split).scan(
            order=self.order, seed=self.seed, epoch=epoch, block_size=self.block_size,
            window=self.window, prefetch_batches=0).indices.astype(np.int64)
        begin, end = self._shard_bounds(self.rank)
        mine = order[begin:end]
        want = len(self)
        if len(mine) > want:  # drop_last
            mine = mine[:want]
        elif len(mine) < want:  # pad: from the start of the epoch's order
            mine = np.concatenate([mine, np.resize(order, want - len(mine))])
        return mine

    def shard(self) -> "tuple[int, int]":
        """(rank * workers + worker, world * workers) of the calling worker."""
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return self.rank * workers + worker, self.world_size * workers

    # -- iteration ------------------------------------------------------------

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            self._in_main_process()
        else:
            self._check_worker()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        epoch = int(self._shared[_EPOCH])
        start = int(self._shared[_RESUME_AT]) if self._shared[_RESUME_EPOCH] == epoch else 0
        indices = self.rank_indices(epoch)[start:]
        split = _split_of(self.store, self.split)
        if isinstance(split, oiv4kv.Subset):
            split = split.split  # the indices are the split's
        images = self.images and self.config is not None
        step = self.batch_size
        for begin in range(worker * step, len(indices), workers * step):
            chunk = indices[begin:begin + step].tolist()
            for index, example in zip(chunk, split.examples(chunk)):
                if images:
                    example["image"] = (split.decoded(index, self.config, self.decode)
                                        if self.decode is not None
                                        else split.image(index, self.config))
                if self.tensors:
                    example = to_tensors(example)
                yield self.transform(example) if self.transform else example

    def loader(self, **kwargs) -> "torch.utils.data.DataLoader":
        """A DataLoader over this dataset with batch_size=self.batch_size and
        collate_fn=collate (unless given): it delivers the rank sequence in
        order and counts what it delivered, for state_dict()."""
        if kwargs.setdefault("batch_size", self.batch_size) != self.batch_size:
            raise ValueError(f"loader(batch_size={kwargs['batch_size']}): the dataset's "
                             f"batch_size is {self.batch_size}; they must be equal")
        kwargs.setdefault("collate_fn", collate)
        return _CountingLoader(self, **kwargs)

    # -- checkpoints ----------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        """Where this rank stands: the epoch and how many examples of its
        sequence the DataLoader from loader() delivered (every worker's
        position follows from it), with what identifies the sequence. Save
        one per rank; the number of workers is not part of it, so it resumes
        exactly with any number of workers."""
        self._in_main_process()
        state = self._identity()
        state.update(version=_STATE_VERSION, epoch=self.epoch, delivered=self._delivered)
        return state

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Resumes at `state` (from state_dict()): the next iteration reads
        the rest of that epoch's rank sequence, then set_epoch goes on as
        usual. ValueError, naming the field and both values, for a state of
        another sequence (seed, order, split, store size, batch_size, rank,
        world_size, drop_last, pad, ...)."""
        self._in_main_process()
        _check_state(state, _STATE_VERSION, _STATE_IDENTITY, self._identity())
        epoch, delivered = int(state["epoch"]), int(state["delivered"])
        if not 0 <= delivered <= len(self):
            raise ValueError(f"load_state_dict: delivered={delivered} is not in "
                             f"[0, {len(self)}]")
        self._shared[_EPOCH] = epoch
        self._shared[_RESUME_EPOCH] = epoch
        self._shared[_RESUME_AT] = delivered
        self._delivered = delivered

    def _identity(self) -> Dict[str, Any]:
        name = self.split.name if isinstance(self.split, oiv4kv.Subset) else self.split
        return dict(split=name, subset=_subset_identity(self.split), examples=self.num_examples, order=self.order,
                    seed=self.seed, block_size=self.block_size, window=self.window,
                    batch_size=self.batch_size, rank=self.rank, world_size=self.world_size,
                    drop_last=self.drop_last, pad=self.pad)

    # -- pickling -------------------------------------------------------------

    def __getstate__(self):
        spawning = multiprocessing.context.get_spawning_popen() is not None
        if spawning and self.rank_source == "provisional":
            # A worker is being started, from the main process: the last
            # moment to learn rank and world where they are known.
            self._resolve()
        state = dict(self.__dict__)
        if not spawning:
            # Not a worker being started (a copy, torch.save, ...): shared
            # memory cannot travel, its values do.
            state["_shared"] = list(self._shared)
        return state

    def __setstate__(self, state):
        if isinstance(state["_shared"], list):
            values = state["_shared"]
            state["_shared"] = multiprocessing.RawArray("q", 3)
            state["_shared"][:] = values
        self.__dict__.update(state)


class _CountingLoader(torch.utils.data.DataLoader):
    """A DataLoader that tells its OpenImagesIterableDataset how many
    examples of the epoch it delivered."""

    def __iter__(self):
        ds = self.dataset
        ds._in_main_process()
        epoch = ds.epoch
        resuming = ds._shared[_RESUME_EPOCH] == epoch
        ds._delivered = int(ds._shared[_RESUME_AT]) if resuming else 0
        total = len(ds)
        for batch in super().__iter__():
            ds._delivered = min(ds._delivered + ds.batch_size, total)
            yield batch
        ds._shared[_RESUME_EPOCH] = -1  # the resumed epoch is done


# -- the native Loader ---------------------------------------------------------

# torch has no unsigned types wider than uint8: ids become int64 of the same
# bits, counts and sizes int64; the rest keep their dtype.
_BATCH_DTYPES = {"image_id": None, "index": np.int64, "offsets": np.int64, "label": np.int64,
                 "source": np.int64, "confidence": np.int32, "source_width": np.int64,
                 "source_height": np.int64, "content_width": np.int64,
                 "content_height": np.int64}


def _batch_tensor(name: str, array: np.ndarray) -> torch.Tensor:
    if name == "image_id":
        return torch.from_numpy(array.view(np.int64))  # the same 64 bits
    dtype = _BATCH_DTYPES.get(name)
    return torch.from_numpy(array if dtype is None else array.astype(dtype))


def to_torch(batch: Dict[str, Any]) -> Dict[str, Any]:
    """A batch of oiv4kv.Loader as tensors: "image" through torch.from_numpy,
    no copy (the same memory as the ring slot, so valid until the next
    batch); "image_id" int64 of the id's 64 bits (id & (2**64 - 1) gives the
    unsigned id back), indices, offsets, labels and sizes int64, the rest in
    their numpy dtype (bool masks, float boxes and crops)."""
    out: Dict[str, Any] = {}
    for key, value in batch.items():
        if key == "image":
            out[key] = torch.from_numpy(value)
        elif isinstance(value, dict):
            out[key] = {name: _batch_tensor(name, v) for name, v in value.items()}
        elif isinstance(value, np.ndarray):
            out[key] = _batch_tensor(key, value)
        else:
            out[key] = value
    return out


_LOADER_STATE_VERSION = 1


class Loader:
    """oiv4kv.Loader for PyTorch: batches decoded and augmented by native
    threads in this process (no DataLoader workers), as dicts of tensors
    (to_torch; "image" B x H x W x 3 uint8 by default, a zero-copy view valid
    until the next batch unless pin_memory).

        loader = ot.Loader("/data/oiv4", "train", batch_size=256, size=(224, 224))
        for epoch in range(epochs):
            loader.set_epoch(epoch)
            for batch in loader:
                ...                                  # batch["image"], batch["valid"]
                checkpoint = loader.state_dict()     # load_state_dict(checkpoint) resumes

    `split` is a split name or an oiv4kv.Subset (only its examples are read).
    Arguments: those of oiv4kv.Loader (batch_size, size, transform, order,
    seed, threads, prefetch, remainder, bad_image, layout, dtype, mean, std,
    block_size, window, config, sampler: an oiv4kv.Sampler for
    class-balanced epochs) and epoch; the shard is this rank's: rank and
    world_size if given, else torch.distributed's when it is initialized at
    construction, else RANK/WORLD_SIZE from the environment, else 0 of 1.
    Every rank gets the same number of batches (remainder='pad' or 'drop').
    pin_memory=True copies each image batch into pinned memory (torch's
    allocator), for non_blocking copies to the GPU; it needs CUDA
    (ValueError where torch.cuda.is_available() is False).
    """

    def __init__(self, store: Union[str, "oiv4kv.Store"],
                 split: Union[str, "oiv4kv.Subset"] = "train", *, epoch: int = 0, rank: Optional[int] = None,
                 world_size: Optional[int] = None, pin_memory: bool = False, **kwargs):
        for name in ("shard_index", "num_shards", "state"):
            if name in kwargs:
                raise TypeError(f"oiv4kv.torch.Loader takes no {name}=: the shard is "
                                f"rank/world_size, the state goes to load_state_dict()")
        if pin_memory and not torch.cuda.is_available():
            raise ValueError("pin_memory=True needs CUDA, and torch.cuda.is_available() is "
                             "False here: leave pin_memory off")
        self.store = _open(store)
        self.split = split
        self.pin_memory = pin_memory
        self.rank, self.world_size = _rank_and_world(rank, world_size)
        self._kwargs = kwargs
        self._epoch = epoch
        self._next = self._open(epoch, None)  # checks the arguments now
        self._current: Optional[oiv4kv.Loader] = None
        self._resumed = False  # _next continues a loaded state

    def _open(self, epoch: int, state: Optional[str]) -> "oiv4kv.Loader":
        return oiv4kv.Loader(self.store, self.split, epoch=epoch, shard_index=self.rank,
                             num_shards=self.world_size, state=state, **self._kwargs)

    @property
    def epoch(self) -> int:
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iteration reads: from its start, or, when a
        state of this epoch was loaded and not yet iterated, from there (as
        OpenImagesIterableDataset.set_epoch)."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, not {epoch}")
        if self._resumed and epoch == self._epoch:
            return
        self._epoch = epoch
        self._next = None
        self._current = None
        self._resumed = False

    def __len__(self) -> int:
        """Batches of this rank's epoch (the same on every rank)."""
        if self._next is None:
            self._next = self._open(self._epoch, None)
        return len(self._next)

    def __iter__(self):
        native = self._next if self._next is not None else self._open(self._epoch, None)
        self._next = None  # a later iteration starts the epoch again
        self._current = native
        self._resumed = False
        for batch in native:
            batch = to_torch(batch)
            if self.pin_memory:
                batch["image"] = batch["image"].pin_memory()
            yield batch

    def state_dict(self) -> Dict[str, Any]:
        """Where this rank stands (torchdata's StatefulDataLoader name): the
        epoch and the native loader's position, after the last batch
        delivered."""
        native = self._current if self._current is not None else self._next
        position = native.state() if native is not None else None
        return {"version": _LOADER_STATE_VERSION, "epoch": self._epoch, "position": position}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """The next iteration continues `state`'s epoch after its last
        batch. ValueError, naming the field, for a state of another loader
        (batch_size, transform, size, seed, order, shard, ...)."""
        if state.get("version") != _LOADER_STATE_VERSION:
            raise ValueError(f"load_state_dict: state version {state.get('version')!r}, "
                             f"this oiv4kv reads version {_LOADER_STATE_VERSION}")
        epoch = int(state["epoch"])
        self._next = self._open(epoch, state["position"])
        self._epoch = epoch
        self._current = None
        self._resumed = True


# -- class-balanced sampling ---------------------------------------------------

_SAMPLER_STATE_VERSION = 1
# The fields of ClassBalancedSampler.state_dict() that must match on load.
_SAMPLER_IDENTITY = ("sampler", "seed", "order", "block_size", "window", "rank", "world_size",
                     "drop_last")


class ClassBalancedSampler(torch.utils.data.Sampler):
    """A DataLoader sampler over an oiv4kv.Sampler (oiv4kv.RepeatFactorSampler
    or oiv4kv.ClassAwareSampler) for map-style datasets such as
    OpenImagesDataset of the same split:

        balanced = oiv4kv.RepeatFactorSampler(store.split("train"), threshold=0.001)
        sampler = ot.ClassBalancedSampler(balanced, seed=1)   # rank/world: see below
        loader = torch.utils.data.DataLoader(ds, batch_size=32, sampler=sampler,
                                             num_workers=8, collate_fn=ot.collate)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            for batch in loader:
                ...

    Epoch e is the oiv4kv.Sampler's multiset for (seed, e) (repeats
    included, its length varies by epoch for repeat-factor sampling) in
    `order` ('shuffled', 'sequential' or 'block_shuffled', as Split.scan
    orders it), a pure function of (seed, e). It is cut into world_size
    contiguous, equal shares: drop_last=False pads the sequence with its own
    first entries up to a multiple of world_size (the shards of
    Split.scan(sampler=...)), drop_last=True drops its last len % world_size
    entries. Rank and world: rank=/world_size= if given, else
    torch.distributed's when it is initialized, else RANK/WORLD_SIZE from the
    environment, else 0 of 1.

    state_dict()/load_state_dict() resume an epoch exactly: the state holds
    the epoch and how many of this rank's indices were consumed. A DataLoader
    takes indices ahead of the batches it has delivered (prefetching), so
    pass consumed= (examples the training loop took since this iteration
    began, e.g. batches * batch_size) to state_dict(); without it the state
    counts the indices this sampler has handed out.
    """

    def __init__(self, sampler: "oiv4kv.Sampler", *, seed: int = 0, order: str = "shuffled",
                 rank: Optional[int] = None, world_size: Optional[int] = None,
                 drop_last: bool = False, block_size: int = 256, window: int = 16):
        if not isinstance(sampler, oiv4kv.Sampler):
            raise TypeError(f"sampler must be an oiv4kv.Sampler (oiv4kv.RepeatFactorSampler or "
                            f"oiv4kv.ClassAwareSampler), not {type(sampler).__name__}")
        self.sampler = sampler
        self.seed, self.order, self.drop_last = seed, order, drop_last
        self.block_size, self.window = block_size, window
        self.rank, self.world_size = _rank_and_world(rank, world_size)
        self.epoch = 0
        self._offset = 0       # indices of this epoch handed out (or the loaded state's)
        self._start = 0        # where the current iteration started in the epoch
        self._resumed = False  # _offset is a loaded state's, for self.epoch
        self._cache: "tuple[int, Optional[np.ndarray]]" = (-1, None)
        self.rank_indices(0)   # checks order, block_size and window now

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iteration reads: from its start, or from a
        loaded state of this epoch not yet iterated."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, not {epoch}")
        if self._resumed and epoch == self.epoch:
            return
        self.epoch, self._offset, self._start, self._resumed = epoch, 0, 0, False

    def rank_indices(self, epoch: Optional[int] = None) -> np.ndarray:
        """This rank's split indices of an epoch (int64), in delivery order."""
        epoch = self.epoch if epoch is None else epoch
        if self._cache[0] == epoch:
            return self._cache[1]
        split = self.sampler.split
        order = split.scan(sampler=self.sampler, order=self.order, seed=self.seed, epoch=epoch,
                           block_size=self.block_size, window=self.window,
                           prefetch_batches=0).indices.astype(np.int64)
        w = self.world_size
        if self.drop_last:
            order = order[:len(order) - len(order) % w]
        elif len(order) % w:  # pad with the first entries, as Scan does
            order = np.concatenate([order, np.resize(order, w - len(order) % w)])
        share = len(order) // w
        mine = order[self.rank * share:(self.rank + 1) * share]
        self._cache = (epoch, mine)
        return mine

    def __len__(self) -> int:
        """This rank's indices in the current epoch (the same on every rank)."""
        return len(self.rank_indices())

    def __iter__(self):
        indices = self.rank_indices()
        start = self._offset if self._resumed else 0
        self._offset, self._start, self._resumed = start, start, False
        for index in indices[start:].tolist():
            self._offset += 1
            yield index

    def state_dict(self, consumed: Optional[int] = None) -> Dict[str, Any]:
        """The epoch, how many of this rank's indices of it were consumed,
        and what identifies the sequence. consumed: the examples the training
        loop took since the current iteration began (a resumed iteration
        begins where its state was); None: the indices handed out so far."""
        offset = self._offset if consumed is None else self._start + int(consumed)
        if not 0 <= offset <= len(self):
            raise ValueError(f"state_dict: position {offset} (consumed={consumed}) is not in "
                             f"[0, {len(self)}]")
        return dict(version=_SAMPLER_STATE_VERSION, epoch=self.epoch, consumed=offset,
                    **self._identity())

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """The next iteration continues `state`'s epoch after its consumed
        indices. ValueError, naming the field, for a state of another
        sequence (sampler, seed, order, block_size, window, rank, world_size,
        drop_last)."""
        _check_state(state, _SAMPLER_STATE_VERSION, _SAMPLER_IDENTITY, self._identity())
        self.epoch = int(state["epoch"])
        consumed = int(state["consumed"])
        if not 0 <= consumed <= len(self):
            raise ValueError(f"load_state_dict: consumed={consumed} is not in [0, {len(self)}]")
        self._offset, self._start, self._resumed = consumed, consumed, True

    def _identity(self) -> Dict[str, Any]:
        return dict(sampler=self.sampler.name, seed=self.seed, order=self.order,
                    block_size=self.block_size, window=self.window, rank=self.rank,
                    world_size=self.world_size, drop_last=self.drop_last)
