"""Generate docs/ops.md: every keras.ops function, how lazyops runs it.

Each function is called on small inputs; the ops it records (read from the
registry) say whether it fuses into kernels, runs as a library op (NumPy),
or forces data at the call. `tests/test_docs.py` checks that docs/ops.md is
what this script writes.

    python docs/gen_ops_table.py > docs/ops.md
"""
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "numpy")

import numpy as np  # noqa: E402

import lazyops as lo  # noqa: E402
from lazyops.codegen import cuda  # noqa: E402
from lazyops.ir.core import walk  # noqa: E402
from lazyops.ir.registry import all_ops, family, lookup  # noqa: E402

SPEC = pathlib.Path(__file__).resolve().parent / "keras_ops.txt"  # the keras.ops names
CONTROL_FLOW = set()

F = np.linspace(-1, 1, 12, dtype="float32").reshape(3, 4)
I = np.arange(12, dtype="int32").reshape(3, 4)
SQ = np.eye(3, dtype="float32") * 2 + 0.5
V = np.linspace(0, 1, 4, dtype="float32")
IDX = np.array([0, 2], "int32")

# calls for functions that are not a plain registered op
CALLS = {
    "abs": (F,), "amax": (F,), "amin": (F,), "append": (F, F), "arange": (5,),
    "argmax": (F,), "argmin": (F,), "argpartition": (F, 1), "argsort": (F,), "array": (F,),
    "average": (F,), "bincount": (IDX,), "bitwise_left_shift": (I, 1),
    "bitwise_not": (I,), "bitwise_right_shift": (I, 1), "broadcast_to": (V, (3, 4)),
    "cast": (F, "int32"), "clip": (F, 0.0, 0.5), "concatenate": ([F, F],), "conj": (F,),
    "convert_to_numpy": (F,), "convert_to_tensor": (F,), "copy": (F,), "correlate": (V, V),
    "associative_scan": (lo.add, F), "cond": (lo.sum(F) > 0, lambda: lo.exp(F), lambda: F * 2.0),
    "count_nonzero": (F,), "cross": (F[:, :3], F[:, :3]), "custom_gradient": None,
    "diag": (V,), "diagonal": (F,), "diff": (F,), "digitize": (F, V), "dot": (F, F.T),
    "dtype": (F,), "einsum": ("ij,kj->ik", F, F), "empty": ((2, 3),), "expand_dims": (F, 0),
    "extract_sequences": (F, 2, 1), "eye": (3,), "flip": (F,), "full": ((2, 3), 1.5),
    "full_like": (F, 2.0), "get_item": (F, (1, IDX)), "histogram": (V, 3, (0.0, 1.0)),
    "identity": (3,), "in_top_k": (np.array([0, 1, 2], "int32"), F, 2), "inner": (F, F),
    "is_tensor": (F,), "isclose": (F, F), "linspace": (0, 1, 5), "logspace": (0, 1, 5),
    "matmul": (F, F.T), "max": (F,), "median": (F,), "meshgrid": (V, V), "min": (F,),
    "moveaxis": (F, 0, 1), "nan_to_num": (F,), "ndim": (F,), "nonzero": (F,), "norm": (F,),
    "ones": ((2, 3),), "ones_like": (F,), "outer": (V, V), "pad": (F, 1), "power": (F, 2.0),
    "prod": (F,), "quantile": (F, 0.5), "ravel": (F,), "repeat": (F, 2), "reshape": (F, (4, 3)),
    "roll": (F, 1), "round": (F,), "rsqrt": (F,), "saturate_cast": (F, "uint8"),
    "scatter": (np.array([[0, 1]], "int32"), np.array([1.0], "float32"), (3, 4)),
    "scatter_update": (F, np.array([[0, 1]], "int32"), np.array([1.0], "float32")),
    "searchsorted": (V, F), "segment_max": (F, np.array([0, 0, 1], "int32")),
    "segment_sum": (F, np.array([0, 0, 1], "int32")), "select": ([F > 0], [F]), "shape": (F,),
    "size": (F,), "slice": (F, (0, 1), (2, 2)), "slice_update": (F, (0, 0), F[:2, :2]),
    "slogdet": (SQ,), "sort": (F,), "split": (F, 2, 1), "squeeze": (F[None],), "stack": ([F, F],),
    "std": (F,), "stop_gradient": (F,), "swapaxes": (F, 0, 1), "take": (F, IDX),
    "switch": (lo.argmax(F[0]), [lambda a: a + 1.0, lambda a: lo.exp(a)], F),
    "take_along_axis": (F, np.zeros((1, 4), "int32"), 0), "tensordot": (F, F, 2), "tile": (F, 2),
    "top_k": (F, 2), "trace": (F,), "transpose": (F,), "tri": (3,), "tril": (F,), "triu": (F,),
    "true_divide": (F, F), "unstack": (F,), "vdot": (F, F), "vectorize": None, "vstack": ([F, F],),
    "where": (F > 0, F, 0.0), "zeros": ((2, 3),), "zeros_like": (F,),
}
# data-dependent shapes (with these calls: segment ops given num_segments, or
# histogram given a range, force nothing)
FORCES = {"nonzero", "bincount", "segment_max", "segment_sum"}
NOT_RECORDED = {"convert_to_numpy", "dtype", "is_tensor", "ndim", "shape", "size"}


def _args(name):
    if name in CALLS:
        return CALLS[name]
    d = all_ops()["lazy." + name]
    ints = name.startswith(("bitwise", "left_shift", "right_shift"))
    return (I if ints else F,) * d.arity


def _recorded(result):
    """Names and families of the ops `result` recorded."""
    ts = [t for t in (result if isinstance(result, (tuple, list)) else [result])
          if isinstance(t, lo.Tensor)]
    values = [t._value for t in ts if t._value.data is None]
    if not values:
        return []
    order = walk(values)[0]
    return [(op.name.split(".", 1)[1], family(op)) for op in order]


def describe(name):
    """(how, ops, CPU, CUDA) for keras.ops function `name`."""
    if name in CONTROL_FLOW:
        return "control flow", "-", "not yet", "not yet"
    if name in NOT_RECORDED:
        return "query (no data)", "-", "-", "-"
    if name in ("scan", "fori_loop", "while_loop"):  # elementwise recurrences compile
        return "compiled loop (elementwise body), else driven from Python", "scan", \
            "one kernel", "-"
    if name in ("map", "vectorized_map"):  # an elementwise body: its ops on the whole tensors
        return "fused over the leading axis (elementwise body), else driven from Python", \
            "-", "compiled", "-"
    if name == "custom_gradient":  # a decorator whose call records its traced gradient
        return "wrapper (gradient as a region)", "custom_gradient", "forward: fused", "-"
    args = _args(name)
    if args is None:  # decorators: they wrap the user's function
        return "function wrapper", "-", "-", "-"
    ops = _recorded(getattr(lo, name)(*args))
    fams = {f for _, f in ops}
    names = sorted({n for n, f in ops if f not in ("constant", "source", "view")}) or \
        sorted({n for n, _ in ops})
    if not ops:
        how = "forces its input" if name in FORCES else "input conversion"
    elif "library" in fams and any(lookup(n).decompose for n, f in ops if f == "library"):
        return ("fused where its decomposition applies (norm: vector and Frobenius norms of "
                "floats), else library (NumPy)"), " ".join(sorted({n for n, _ in ops})), \
            "compiled / NumPy", "compiled (2-norms) / NumPy on host"
    elif "library" in fams:
        how = "library (NumPy)" + (", forces" if name in FORCES else "")
    elif fams <= {"view", "constant"}:
        how = "constant (broadcast)" if "constant" in fams else "view (index map)"
    else:
        how = "fused"
    compute = {n for n, f in ops if f in ("elementwise", "reduction", "composite", "source", "scan")}
    cpu = "NumPy" if "library" in fams else ("compiled" if ops else "-")
    if not ops or "library" in fams:
        gpu = "-" if not ops else "NumPy on host"
    elif compute <= cuda.OPS | {"constant"}:
        gpu = "compiled"
    else:
        gpu = "not yet"
    return how, " ".join(names) or "-", cpu, gpu


def table():
    names = [line.split()[0] for line in SPEC.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    rows = ["# keras.ops in lazyops", "",
            "Generated by `python docs/gen_ops_table.py > docs/ops.md` from the op registry "
            "(`tests/test_docs.py` checks it is current). `how`: fused (elementwise work and "
            "reductions compiled into kernels), view (an index map applied at launch), library "
            "(a kernel boundary computed by NumPy), forces (reads data at the call: the output "
            "shape depends on it). `ops`: the recorded ops, views and constants left out. "
            "CUDA: `compiled` where the CUDA printer knows every op (not yet user-facing).", "",
            f"{len(names)} functions.", "",
            "| function | how | ops | CPU | CUDA |", "|---|---|---|---|---|"]
    for n in names:
        how, ops, cpu, gpu = describe(n)
        rows.append(f"| `{n}` | {how} | {ops} | {cpu} | {gpu} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")
