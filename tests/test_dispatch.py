"""The force fast path: a value's recorded node (a hash-consed structural key
built while recording) finds its plan without walking the graph. Graphs that
share a node id share a plan, so the key must keep apart everything that
changes values (leaf sharing, op attributes), and a graph changed by a force
since it was recorded must walk again."""
import numpy as np
import pytest

import lazyops as lo
from lazyops import engine

X = np.arange(1, 9, dtype=np.float32)
Y = np.arange(10, 18, dtype=np.float32)


@pytest.fixture
def walks(monkeypatch):
    """How many times forcing walked a graph."""
    count = [0]
    real = engine.walk

    def counting(outputs):
        count[0] += 1
        return real(outputs)

    monkeypatch.setattr(engine, "walk", counting)
    return count


def test_a_known_structure_forces_without_a_walk(walks):
    def f(x, y):
        return (lo.convert_to_tensor(x) * 2 + y) * 0.5 - x
    f(X, Y).numpy()
    f(X, Y).numpy()  # its node now knows the plan
    n = walks[0]
    for k in range(3):
        x, y = X + k, Y - k
        np.testing.assert_array_equal(f(x, y).numpy(), (x * 2 + y) * np.float32(0.5) - x)
    assert walks[0] == n


def test_leaf_sharing_is_part_of_the_key(walks):
    """`x - x` and `x - y` have the same ops on the same types."""
    for _ in range(2):
        a = lo.convert_to_tensor(X)
        b = lo.convert_to_tensor(Y)
        np.testing.assert_array_equal((a - a).numpy(), np.zeros(8, np.float32))
        np.testing.assert_array_equal((a - b).numpy(), X - Y)
        np.testing.assert_array_equal((b - a).numpy(), Y - X)
        np.testing.assert_array_equal(((a * 2) - (b * 2) + a).numpy(), X * 2 - Y * 2 + X)
        np.testing.assert_array_equal(((a * 2) - (a * 2) + b).numpy(), Y)


def test_attributes_and_constants_are_part_of_the_key():
    a = lo.convert_to_tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    for _ in range(2):
        np.testing.assert_array_equal(lo.sum(a, axis=0).numpy(), np.arange(12.).reshape(3, 4).sum(0))
        np.testing.assert_array_equal(lo.sum(a, axis=1).numpy(), np.arange(12.).reshape(3, 4).sum(1))
        np.testing.assert_array_equal((a * 2.0).numpy(), np.arange(12.).reshape(3, 4) * 2)
        np.testing.assert_array_equal((a * 0.5).numpy(), np.arange(12.).reshape(3, 4) * 0.5)
        np.testing.assert_array_equal((a * 3.0).numpy(), np.arange(12.).reshape(3, 4) * 3)
        np.testing.assert_array_equal((a * 7.0).numpy(), np.arange(12.).reshape(3, 4) * 7)


def test_shared_intermediates_and_their_tree_form_agree():
    a = lo.convert_to_tensor(X)
    t = lo.exp(a * 0.25)
    dag = (t + t).numpy()
    tree = (lo.exp(a * 0.25) + lo.exp(a * 0.25)).numpy()
    np.testing.assert_array_equal(dag, tree)
    np.testing.assert_allclose(dag, 2 * np.exp(X * np.float32(0.25)), rtol=1e-6)


def test_a_force_below_makes_the_node_stale(walks):
    """`a` forced after `b` was recorded on it: `b` walks and reads a's buffer."""
    for _ in range(2):
        a = lo.convert_to_tensor(X) * 3.0
        b = lo.sqrt(a) + 1.0
        a.numpy()
        n = walks[0]
        np.testing.assert_allclose(b.numpy(), np.sqrt(X * 3) + 1, rtol=1e-6)
        assert walks[0] == n + 1
        assert engine.computed_by(b._value)[0].reference.args[0].type.shape == (8,)


def test_many_leaves_have_no_node_and_still_force():
    arrays = [np.full(4, k, np.float32) for k in range(40)]
    total = lo.convert_to_tensor(arrays[0])
    for a in arrays[1:]:
        total = total + a
    assert total._value.node is None
    np.testing.assert_array_equal(total.numpy(), np.full(4, sum(range(40)), np.float32))


def test_compiled_and_interpreted_plans_both_serve_the_fast_path():
    x = np.linspace(-1, 1, 50_000, dtype=np.float32)
    with lo.config.override(small_work=0, tiered=False):
        for _ in range(3):
            got = lo.tanh(lo.convert_to_tensor(x) * 1.5).numpy()
            np.testing.assert_allclose(got, np.tanh(x * np.float32(1.5)), rtol=2e-6, atol=1e-7)
