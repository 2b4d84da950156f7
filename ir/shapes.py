"""Shape rules shared by op definitions: broadcasting and axis handling.

Errors name the op, the argument and the shapes, since they surface at the
user's call.
"""


def broadcast_shapes(op, shapes, names=None):
    first = shapes[0] if shapes else ()
    if all(s == first or s == () for s in shapes):  # the common cases, fast
        return tuple(first) if first or not shapes else max(shapes, key=len)
    names = names or [f"x{i + 1}" for i in range(len(shapes))]
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dim = 1
        for s in shapes:
            d = s[i - rank + len(s)] if i - rank + len(s) >= 0 else 1
            if d != 1:
                if dim not in (1, d):
                    desc = ", ".join(f"{n}: {tuple(s)}" for n, s in zip(names, shapes))
                    raise ValueError(f"{op}: operands cannot be broadcast together ({desc})")
                dim = d
        out.append(dim)
    return tuple(out)


def normalize_axis(op, axis, shape, arg="axis", what="an input"):
    """Axis (int, sequence or None) -> sorted tuple of non-negative ints.
    `shape` is the shape the axes index (or its rank, as an int)."""
    rank = shape if isinstance(shape, int) else len(shape)
    if axis is None:
        return tuple(range(rank))
    if type(axis) is int and -rank <= axis < rank:  # the common call
        return (axis % rank,)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"{op}: `{arg}` must be an int or a sequence of ints, got {axis!r}")
        if not -rank <= a < rank:
            raise ValueError(f"{op}: `{arg}`={axis!r} is out of range for {_desc(shape, what)}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in `{arg}`={axis!r} for {_desc(shape, what)}")
    return tuple(sorted(out))


def _desc(shape, what):
    if isinstance(shape, int):
        return f"{what} of rank {shape}"
    return f"{what} of rank {len(shape)} (shape {tuple(shape)})"


def reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def size_of(shape):
    n = 1
    for d in shape:
        n *= d
    return n
