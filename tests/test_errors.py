"""Bad input fails at the call that records it, never at force time, with a
message that names the op, the argument and the shapes or dtypes involved.

Each row: an id, the lazyops call, the exception types allowed, the strings
the message must contain, and the equivalent Keras call (which must raise
too, so we never demand an error Keras does not give), or None.
"""
import ml_dtypes
import numpy as np
import pytest

import lazyops as lo
import lazyops.engine
from oracle import K, keras_call

F23 = np.zeros((2, 3), "float32")
B23 = np.zeros((2, 3), "bool")
U23 = np.zeros((2, 3), "uint8")
I3 = np.arange(3, dtype="int32")


def T(a):
    return lo.convert_to_tensor(a)


# (id, lazy call, exception types, required substrings, keras call or None)
ERRORS = [
    ("broadcast", lambda: lo.add(T(F23), np.zeros(4, "float32")), ValueError,
     ["add", "(2, 3)", "(4,)", "x1", "x2"], lambda: K.add(F23, np.zeros(4, "float32"))),
    ("broadcast-operator", lambda: T(F23) * T(np.zeros((3, 2), "float32")), ValueError,
     ["multiply", "(2, 3)", "(3, 2)"], None),
    ("broadcast-3d", lambda: lo.maximum(T(np.zeros((2, 3, 4))), T(np.zeros((3, 1, 2)))),
     ValueError, ["maximum", "(2, 3, 4)", "(3, 1, 2)"],
     lambda: K.maximum(np.zeros((2, 3, 4)), np.zeros((3, 1, 2)))),
    ("broadcast-where", lambda: lo.where(np.zeros(4, bool), T(F23), 1.0), ValueError,
     ["where", "condition", "(4,)", "(2, 3)"], lambda: K.where(np.zeros(4, bool), F23, 1.0)),
    ("axis-out-of-range", lambda: lo.sum(T(F23), axis=2), ValueError,
     ["sum", "axis", "2", "(2, 3)"], lambda: K.sum(F23, axis=2)),
    ("axis-out-of-range-neg", lambda: lo.mean(T(F23), axis=-3), ValueError,
     ["mean", "axis", "-3", "(2, 3)"], lambda: K.mean(F23, axis=-3)),
    ("axis-out-of-range-tuple", lambda: lo.max(T(F23), axis=(0, 5)), ValueError,
     ["max", "axis", "(2, 3)"], lambda: K.max(F23, axis=(0, 5))),
    ("axis-on-scalar", lambda: lo.sum(T(np.float32(1)), axis=1), ValueError,
     ["sum", "axis", "()"], lambda: K.sum(np.float32(1), axis=1)),
    ("axis-argmax", lambda: lo.argmax(T(F23), axis=2), ValueError,
     ["argmax", "axis", "(2, 3)"], lambda: K.argmax(F23, axis=2)),
    ("repeated-axis", lambda: lo.sum(T(F23), axis=(0, -2)), ValueError,
     ["sum", "repeated", "axis", "(2, 3)"], lambda: K.sum(F23, axis=(0, -2))),
    ("repeated-axis-var", lambda: lo.var(T(F23), axis=(1, 1)), ValueError,
     ["var", "repeated", "axis", "(2, 3)"], lambda: K.var(F23, axis=(1, 1))),
    ("axis-float", lambda: lo.sum(T(F23), axis=1.0), TypeError, ["sum", "axis"],
     lambda: K.sum(F23, axis=1.0)),
    ("argmax-tuple-axis", lambda: lo.argmax(T(F23), axis=(0, 1)), TypeError, ["argmax", "axis"],
     lambda: K.argmax(F23, axis=(0, 1))),
    ("reshape-size", lambda: lo.reshape(T(F23), (4,)), ValueError,
     ["reshape", "(2, 3)", "(4,)"], lambda: K.reshape(F23, (4,))),
    ("reshape-infer", lambda: lo.reshape(T(F23), (-1, 4)), ValueError,
     ["reshape", "(2, 3)", "(-1, 4)"], lambda: K.reshape(F23, (-1, 4))),
    ("reshape-two-unknowns", lambda: lo.reshape(T(F23), (-1, -1)), ValueError,
     ["reshape", "(-1, -1)"], lambda: K.reshape(F23, (-1, -1))),
    ("reshape-method", lambda: T(F23).reshape(5, 1), ValueError, ["reshape", "(2, 3)", "(5, 1)"],
     None),
    ("squeeze-non-1", lambda: lo.squeeze(T(F23), axis=0), ValueError,
     ["squeeze", "axis", "(2, 3)"], lambda: K.squeeze(F23, axis=0)),
    ("squeeze-out-of-range", lambda: lo.squeeze(T(np.zeros((1, 3))), axis=2), ValueError,
     ["squeeze", "axis", "(1, 3)"], lambda: K.squeeze(np.zeros((1, 3)), axis=2)),
    ("transpose-repeated", lambda: lo.transpose(T(F23), (0, 0)), ValueError,
     ["transpose", "(0, 0)", "(2, 3)"], lambda: K.transpose(F23, (0, 0))),
    ("transpose-length", lambda: lo.transpose(T(F23), (0, 1, 2)), ValueError,
     ["transpose", "(0, 1, 2)", "(2, 3)"], lambda: K.transpose(F23, (0, 1, 2))),
    ("transpose-range", lambda: lo.transpose(T(F23), (0, 2)), ValueError,
     ["transpose", "(0, 2)", "(2, 3)"], lambda: K.transpose(F23, (0, 2))),
    ("expand-dims-range", lambda: lo.expand_dims(T(F23), 3), ValueError,
     ["expand_dims", "axis", "(2, 3)"], lambda: K.expand_dims(F23, 3)),
    ("broadcast-to", lambda: lo.broadcast_to(T(F23), (3, 3)), ValueError,
     ["broadcast_to", "(2, 3)", "(3, 3)"], lambda: K.broadcast_to(F23, (3, 3))),
    ("broadcast-to-fewer-dims", lambda: lo.broadcast_to(T(F23), (3,)), ValueError,
     ["broadcast_to", "(2, 3)", "(3,)"], lambda: K.broadcast_to(F23, (3,))),
    ("matmul-contraction", lambda: lo.matmul(T(F23), T(F23)), ValueError,
     ["matmul", "(2, 3)"], lambda: K.matmul(F23, F23)),
    ("matmul-operator", lambda: T(F23) @ T(np.zeros((2, 2), "float32")), ValueError,
     ["matmul", "(2, 3)", "(2, 2)"], None),
    ("max-empty-axis", lambda: lo.max(T(np.zeros((2, 0), "float32")), axis=1), ValueError,
     ["max", "(2, 0)"], lambda: K.max(np.zeros((2, 0), "float32"), axis=1)),
    ("min-empty", lambda: lo.min(T(np.zeros((0,), "int32"))), ValueError, ["min", "(0,)"],
     lambda: K.min(np.zeros((0,), "int32"))),
    ("amax-empty", lambda: lo.amax(T(np.zeros((0, 3), "float32")), axis=0), ValueError,
     ["amax", "(0, 3)"], lambda: K.amax(np.zeros((0, 3), "float32"), axis=0)),
    ("argmax-empty", lambda: lo.argmax(T(np.zeros((0,), "float32"))), ValueError,
     ["argmax", "(0,)"], lambda: K.argmax(np.zeros((0,), "float32"))),
    ("argmin-empty-axis", lambda: lo.argmin(T(np.zeros((3, 0), "float32")), axis=1), ValueError,
     ["argmin", "(3, 0)"], lambda: K.argmin(np.zeros((3, 0), "float32"), axis=1)),
    ("negative-bool", lambda: lo.negative(T(B23)), TypeError, ["negative", "bool"],
     lambda: K.negative(B23)),
    ("neg-operator-bool", lambda: -T(B23), TypeError, ["negative", "bool"], None),
    ("subtract-bool", lambda: lo.subtract(T(B23), T(B23)), TypeError, ["subtract", "bool"],
     lambda: K.subtract(B23, B23)),
    ("sub-operator-bool", lambda: T(B23) - T(B23), TypeError, ["subtract", "bool"], None),
    ("sign-bool", lambda: lo.sign(T(B23)), TypeError, ["sign", "bool"], lambda: K.sign(B23)),
    ("complex-operand", lambda: lo.arcsin(np.zeros(2, "complex128")), TypeError,
     ["arcsin", "complex64", "not supported"], None),
    ("complex-reduction", lambda: lo.max(lo.convert_to_tensor(np.zeros(2, "complex64"))),
     TypeError, ["max", "complex64", "not supported"], None),
    ("string-array", lambda: lo.convert_to_tensor(np.array(["a", "b"])), TypeError,
     ["convert_to_tensor", "U1"], None),
    ("string-operand", lambda: lo.exp(np.array(["a", "b"])), TypeError, ["exp", "x", "U1"],
     lambda: K.exp(np.array(["a", "b"]))),
    ("bitwise-bfloat16", lambda: lo.bitwise_and(lo.convert_to_tensor(np.zeros(2, ml_dtypes.bfloat16)),
                                                 1), TypeError, ["bitwise_and", "bfloat16"], None),
    ("float8-arithmetic", lambda: lo.cast(T(F23), "float8_e4m3fn") * 2, ValueError,
     ["multiply", "float8", "cast"], None),
    ("cast-complex128", lambda: lo.cast(T(F23), "complex128"), TypeError,
     ["cast", "complex128"], None),
    ("bad-dtype-name", lambda: lo.cast(T(F23), "float31"), TypeError, ["cast", "float31"],
     lambda: K.cast(F23, "float31")),
    ("zeros-dtype", lambda: lo.zeros((2,), dtype="int3"), TypeError, ["zeros", "int3"], None),
    ("ones-negative-shape", lambda: lo.ones((2, -1)), ValueError, ["ones", "(2, -1)"],
     lambda: K.ones((2, -1))),
    ("arange-zero-step", lambda: lo.arange(0, 5, 0), ValueError, ["arange", "step"],
     lambda: K.arange(0, 5, 0)),
    ("where-x1-only", lambda: lo.where(T(B23), 1.0), ValueError, ["where", "both"], None),
    ("python-int-out-of-range", lambda: lo.add(T(U23), -7), (TypeError, ValueError, OverflowError),
     ["add", "-7", "uint8"], lambda: K.add(U23, -7)),
    ("python-int-out-of-range-rhs", lambda: lo.maximum(300, T(np.zeros(2, "int8"))),
     (TypeError, ValueError, OverflowError), ["maximum", "300", "int8"],
     lambda: K.maximum(300, np.zeros(2, "int8"))),
    ("static-int-out-of-range", lambda: lo.power(T(U23), -1),
     (TypeError, ValueError, OverflowError), ["power", "-1", "uint8"],
     lambda: K.power(U23, -1)),
    ("int-negative-power", lambda: lo.power(T(I3), -2), (TypeError, ValueError),
     ["power", "int32"], lambda: K.power(I3, -2)),
    ("full-value-out-of-range", lambda: lo.full((2,), 300, dtype="uint8"),
     (TypeError, ValueError, OverflowError), ["full", "300", "uint8"],
     lambda: K.full((2,), 300, dtype="uint8")),
    ("round-decimals-float", lambda: lo.round(T(F23), 1.5), TypeError, ["round", "decimals"],
     None),
]

KNOWN = {}


@pytest.fixture
def no_forcing(monkeypatch):
    """Any forcing during the call fails the test: errors must come from recording."""
    def refuse(*a, **k):
        raise AssertionError("the call forced a graph; the error must be raised when recording")
    monkeypatch.setattr(lazyops.engine, "evaluate_values", refuse)


def _params():
    out = []
    for case_id, call, exc, needles, kcall in ERRORS:
        marks = [pytest.mark.xfail(strict=True, reason="BUG: " + KNOWN[case_id])] \
            if case_id in KNOWN else []
        out.append(pytest.param(call, exc, needles, kcall, id=case_id, marks=marks))
    assert not set(KNOWN) - {e[0] for e in ERRORS}
    return out


@pytest.mark.parametrize("call,exc,needles,kcall", _params())
def test_error_at_call(no_forcing, call, exc, needles, kcall):
    if kcall is not None:
        _, err = keras_call(kcall)
        assert err is not None, "Keras accepts this input; lazyops should too"
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    missing = [n for n in needles if n not in msg]
    assert not missing, f"message {msg!r} lacks {missing}"


def test_errors_leave_earlier_graph_usable():
    x = T(np.arange(6, dtype="float32").reshape(2, 3))
    y = x * 2.0
    with pytest.raises(ValueError):
        lo.add(y, T(np.zeros(4, "float32")))
    with pytest.raises(ValueError):
        lo.sum(y, axis=5)
    np.testing.assert_array_equal(y.numpy(), np.arange(6, dtype="float32").reshape(2, 3) * 2)


def test_getitem_errors(no_forcing):
    t = T(F23)
    with pytest.raises(IndexError, match="out of bounds"):
        t[2]
    with pytest.raises(IndexError, match="out of bounds"):
        t[:, -4]
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="ellipsis"):
        t[..., 0, ...]
    with pytest.raises(IndexError, match="index 2 is out of bounds"):
        t[[0, 2]]
    with pytest.raises(IndexError, match="unsupported index"):
        t["a"]


def test_scalar_conversion_errors():
    t = T(F23)
    for conv in (float, int, bool):
        with pytest.raises(TypeError, match=r"\(2, 3\)"):
            conv(t)
    with pytest.raises(TypeError):
        len(T(np.float32(1.0)))
    with pytest.raises(TypeError):
        range(10)[T(np.float32(1.0))]


@pytest.mark.parametrize("setting, bad", [("small_work", "abc"), ("small_work", -1),
                                          ("serial_work", 2.5), ("debug", 7),
                                          ("tiered", "yes"), ("check_inputs", 2),
                                          ("device", "gpu")])
def test_bad_settings_fail_at_config_set(setting, bad):
    before = dict(lo.config.SETTINGS)
    with pytest.raises(ValueError, match=f"config.set: {setting}="):
        lo.config.set(**{setting: bad})
    with pytest.raises(ValueError):
        with lo.config.override(**{"debug": 1, setting: bad}):
            pass
    assert lo.config.SETTINGS == before  # nothing half-set


def test_unknown_setting_names_the_known_ones():
    with pytest.raises(KeyError, match="small_work"):
        lo.config.set(smal_work=0)
