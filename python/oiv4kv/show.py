"""show_examples: a grid of examples with their boxes, like tfds.show_examples.

    fig = oiv4kv.show_examples(store.split("validation"), n=9, seed=1)
    fig.savefig("examples.png")

Builds a matplotlib Figure with its own Agg canvas, without pyplot: the
user's backend and pyplot's figure list are left alone (in a notebook,
display `fig` or call fig.savefig). matplotlib is imported only when called.
"""

import math

import numpy as np

from oiv4kv._oiv4kv import POSITIVE_CONFIDENCE, DecodeOptions
from oiv4kv._selection import positive_labels, split_and_indices

# Smallest first: pictures in a grid need no more pixels than 200k has.
_CONFIG_PREFERENCE = ("200k", "300k", "original")
# Colours of classes: label id modulo the palette, so a class keeps its colour
# across figures and calls.
_PALETTE = "tab20"


def _smallest_config(store):
    for name in _CONFIG_PREFERENCE:
        if name in store.configs:
            return name
    raise ValueError(f"store {store.path} holds no complete image config")


def _grid(n, rows, cols):
    if rows is None and cols is None:
        cols = max(1, math.ceil(math.sqrt(n)))
    if cols is None:
        cols = max(1, math.ceil(n / rows))
    if rows is None:
        rows = max(1, math.ceil(n / cols))
    if rows < 1 or cols < 1:
        raise ValueError(f"rows and cols must be positive, not {rows} x {cols}")
    if rows * cols < n:
        raise ValueError(f"a {rows} x {cols} grid cannot hold {n} examples")
    return rows, cols


def class_colour(label):
    """The RGBA colour of boxable label id `label` in every figure."""
    import matplotlib
    return matplotlib.colormaps[_PALETTE](int(label) % matplotlib.colormaps[_PALETTE].N)


def show_examples(split_or_subset, n=9, config=None, seed=None, rows=None, cols=None):
    """A matplotlib Figure with up to `n` examples of a Split or subset.

    Examples: the first n, or n drawn without replacement by
    numpy.random.default_rng(seed) when `seed` is given. Each picture is the
    image decoded in `config` (default: the smallest the store holds, 200k,
    300k, then original with its EXIF orientation applied so boxes fit),
    titled with its image id, its boxes drawn as rectangles in pixels and
    labelled with the class display name (one colour per class), and its
    positive image-level labels written under it. The grid is rows x cols
    (default: a near-square grid of n).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    split, indices = split_and_indices(split_or_subset)
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    n = min(n, len(indices))
    if seed is None:
        chosen = indices[:n]
    else:
        chosen = np.random.default_rng(seed).choice(indices, size=n, replace=False)
    rows, cols = _grid(n, rows, cols)
    store = split.store
    config = config or _smallest_config(store)
    # `original` keeps the download's EXIF tag; boxes refer to the turned image.
    options = DecodeOptions(apply_exif_orientation=True) if config == "original" else None
    all_names = store.vocabulary("all").names
    box_names = store.vocabulary("boxable").names

    fig = Figure(figsize=(3.2 * cols, 3.6 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, index in zip(axes, chosen.tolist()):
        ex = split[index]
        pixels = split.decoded(index, config, options)
        height, width = pixels.shape[:2]
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        # extent puts pixel edges at 0..W, 0..H, so box * size lands on them.
        ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None,
                  extent=(0, width, height, 0), interpolation="antialiased")
        ax.set_title(f"{int(split.ids[index]):016x}", fontsize=8)
        boxes = ex["bobjects"]
        for (ymin, xmin, ymax, xmax), label in zip(boxes["bbox"].tolist(), boxes["label"].tolist()):
            colour = class_colour(label)
            ax.add_patch(Rectangle((xmin * width, ymin * height), (xmax - xmin) * width,
                                   (ymax - ymin) * height, fill=False, edgecolor=colour,
                                   linewidth=1.5))
            ax.text(xmin * width, ymin * height, box_names[label], fontsize=6, color="white",
                    va="top", ha="left", clip_on=True,
                    bbox=dict(facecolor=colour, edgecolor="none", pad=1))
        names = [all_names[i] for i in
                 positive_labels(ex["objects"], POSITIVE_CONFIDENCE).tolist()]
        ax.set_xlabel(", ".join(names), fontsize=6, wrap=True)
    return fig
