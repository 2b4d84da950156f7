"""cond and switch against keras.ops (NumPy backend): a known predicate or
index picks its branch at the call; a lazy one records a `lazy.switch` with
the branches as regions, computed and selected when forced."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine
from lazyops.ir.core import collect
from lazyops.ir.parser import parse_function
from lazyops.ir.printer import print_function
from lazyops.ir.verifier import verify
from oracle import K, assert_same

X = np.array([1.5, -2.0, 3.0, np.nan, 0.5], np.float32)


def lazy(v):
    return lo.convert_to_tensor(v) * 1  # not materialized


def test_known_predicates_pick_their_branch_at_the_call():
    assert lo.cond(True, lambda: 1, lambda: 2) == 1
    assert lo.cond(np.bool_(False), lambda: 1, lambda: 2) == 2
    t = lo.convert_to_tensor(np.float32(0.0))
    assert lo.cond(t, lambda: "yes", lambda: "no") == "no"
    assert lo.switch(7, [lambda a: a + 1, lambda a: a * 3], 2) == 6   # clamped to the last
    assert lo.switch(-1, [lambda: "first", lambda: "last"]) == "first"


@pytest.mark.parametrize("pred", [True, False])
def test_lazy_cond_and_switch_as_keras(pred):
    x = lo.convert_to_tensor(X)
    p = lo.sum(lo.nan_to_num(x)) > (0.0 if pred else 100.0)

    def true_fn():
        return x * 2.0, {"s": lo.sum(lo.nan_to_num(x))}

    def false_fn():
        return lo.exp(x) - 1.0, {"s": lo.max(lo.nan_to_num(x))}
    got = lo.cond(p, true_fn, false_fn)
    assert got[0]._value.owner is None or got[0]._value.owner.name == "lazy.switch"
    want = K.cond(pred, lambda: (K.multiply(X, 2.0), {"s": K.sum(K.nan_to_num(X))}),
                  lambda: (K.subtract(K.exp(X), 1.0), {"s": K.max(K.nan_to_num(X))}))
    assert_same(got[0].numpy(), K.convert_to_numpy(want[0]))
    assert_same(got[1]["s"].numpy(), K.convert_to_numpy(want[1]["s"]))
    for index in (-3, 0, 1, 2, 9):
        branches = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: lo.sqrt(lo.abs(a)) - b]
        kbranches = [lambda a, b: K.add(a, b), lambda a, b: K.multiply(a, b),
                     lambda a, b: K.subtract(K.sqrt(K.abs(a)), b)]
        t = lo.switch(lazy(np.int32(index)), branches, x, 0.25)
        assert_same(t.numpy(), K.convert_to_numpy(K.switch(index, kbranches, X, 0.25)))


def test_switch_regions_verify_print_and_parse():
    x = lo.convert_to_tensor(X)
    t = lo.switch(lo.argmax(lo.nan_to_num(x)), [lambda a: a + 1.0, lambda a: lo.exp(a)], x)
    op = t._value.owner
    assert op.name == "lazy.switch" and len(op.regions) == 2
    assert [o.name for o in op.regions[1].block.ops] == ["lazy.exp", "lazy.yield"]
    func = collect([t._value])[0]
    verify(func)
    assert print_function(parse_function(print_function(func))) == print_function(func)


def test_branches_fuse_into_one_kernel_and_select_exactly():
    x = np.linspace(-3, 3, 40_001, dtype=np.float32)
    x[8191:8193] = np.nan
    t = lo.convert_to_tensor(x)
    pick = lo.max(lo.nan_to_num(t)) > 2.0  # true: the log branch, NaN where x <= 0
    y = lo.cond(pick, lambda: lo.log(t) * 2.0, lambda: lo.exp(t)) + 1.0
    plan = engine.plan_of([y._value])[0]
    assert len([k for k in plan.kernels if tuple(k.attrs["space"]) == x.shape]) == 1
    with np.errstate(all="ignore"), lo.config.override(small_work=0, tiered=False):
        got = y.numpy()
        want = np.log(x) * np.float32(2) + np.float32(1)
    assert_same(got, want)


def test_a_branch_that_forces_makes_the_call_force_the_predicate():
    x = lo.convert_to_tensor(X)
    p = lo.min(lo.nan_to_num(x)) < 0
    t = lo.cond(p, lambda: x * float(lo.sum(lo.nan_to_num(x))), lambda: x)
    assert t._value.owner is None or t._value.owner.name != "lazy.switch"
    assert "forced its input when called" in str(lo.explain(t))
    assert_same(t.numpy(), X * np.float32(np.nansum(X)))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: lo.switch(lazy(np.int32(0)), []), ValueError, "switch: `branches` is empty"),
    (lambda: lo.switch(0, [1, 2]), TypeError, "every branch must be a callable"),
    (lambda: lo.cond(lazy(np.bool_(True)), lambda: lo.convert_to_tensor(X),
                     lambda: lo.convert_to_tensor(X[:2])), ValueError,
     "cond: branch 1 returns"),
    (lambda: lo.cond(lazy(np.bool_(True)), lambda: (lo.convert_to_tensor(X),),
                     lambda: lo.convert_to_tensor(X)), ValueError, "same structure"),
    (lambda: lo.cond(lazy(np.ones(2, bool)), lambda: 1.0, lambda: 2.0), ValueError,
     "`pred` must be a scalar"),
    (lambda: lo.cond(True, 1, lambda: 2), TypeError, "callables"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
