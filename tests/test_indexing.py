"""NumPy indexing of tensors (`t[key]`, `get_item`): basic, integer arrays
(NumPy's advanced-indexing placement rules), boolean masks (forced at the
call) and integer tensors, against NumPy and keras.ops.get_item, on the
interpreter and compiled."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyops as lo
from oracle import K, assert_same

X = np.arange(60, dtype="float32").reshape(3, 4, 5)
T = lo.convert_to_tensor(X)

KEYS = [
    np.array([0, 2]), (slice(None), [1, 3]), (0, slice(None), [1, -1]), ([0, 1], [1, 2], [3, 4]),
    ([[0], [1]], slice(1, 3), [0, 4]), (X[:, :, 0] > 20,), (Ellipsis, [0, 2]),
    (None, [2, 0], None), (slice(None), 0, [1, 2]), ([0, 2], slice(None), 1),
    (X[:, 0, 0] > 5,), (True,), (False,), (slice(None), X[0] > 30), (Ellipsis, X[0, 0] > 2),
    ([-1, -3],), (np.array([], dtype=np.int32),), (slice(None, None, -2), [0, 0, 3]),
    (1, slice(1, None), None), (Ellipsis,), ([True, False, True],),
]


def _numpy_key(k):
    parts = k if isinstance(k, tuple) else (k,)
    return tuple(p.numpy() if isinstance(p, lo.Tensor) else p for p in parts)


@pytest.mark.parametrize("key", KEYS, ids=range(len(KEYS)))
def test_getitem_as_numpy(key):
    want = X[_numpy_key(key)]
    got = T[key]
    assert got.shape == want.shape
    assert_same(got.numpy(), want)


@pytest.mark.parametrize("key", [1, (0, 2), (slice(None), [1, 3]), ([0, 1], [1, 2])],
                         ids=range(4))
def test_get_item_as_keras(key):
    want = K.convert_to_numpy(K.get_item(K.convert_to_tensor(X), key))
    assert_same(lo.get_item(X, key).numpy(), want)


def test_tensor_indices_are_data():
    i = lo.convert_to_tensor(np.array([2, 0], "int32")) + 0  # a lazy index
    assert_same(T[i, 1].numpy(), X[[2, 0], 1])
    assert_same(T[lo.convert_to_tensor(1)].numpy(), X[1])
    assert_same(T[:, lo.convert_to_tensor(np.int32(-1))].numpy(), X[:, -1])
    bad = T[lo.convert_to_tensor(np.array([3], "int32"))]
    with pytest.raises(IndexError, match="getitem: an index in the data is out of range"):
        bad.numpy()


def test_masks_are_forced_at_the_call():
    m = lo.convert_to_tensor(X[:, 0, 0]) > 10
    r = T[m]
    assert m.is_materialized and r.shape == X[X[:, 0, 0] > 10].shape


def test_gathers_compiled_inside_a_graph():
    x = lo.convert_to_tensor(np.linspace(-1, 1, 4000, dtype="float32").reshape(40, 100))
    idx = np.arange(0, 40, 3)
    t = lo.exp(x)[idx] * 2 + x[idx, ::-1]
    with lo.config.override(small_work=0, tiered=False):
        got = t.numpy()
    xn = np.asarray(x.numpy())
    np.testing.assert_allclose(got, np.exp(xn)[idx] * 2 + xn[idx, ::-1], rtol=2e-6)


@pytest.mark.parametrize("key,match", [
    ((X[0] > 5,), "does not match"), (([5],), "out of bounds"), ((0.5,), "unsupported index"),
    ((0, 0, 0, 0), "too many indices"), ((Ellipsis, Ellipsis), "single ellipsis"),
    ((np.array([0.5]),), "unsupported index"), ((0, True), "0-d boolean"),
])
def test_bad_indices(key, match):
    with pytest.raises(IndexError, match=match):
        T[key]


_index = st.one_of(
    st.integers(-3, 2), st.none(), st.just(Ellipsis),
    st.builds(slice, st.one_of(st.none(), st.integers(-4, 4)), st.one_of(st.none(), st.integers(-4, 4)),
              st.one_of(st.none(), st.sampled_from([1, 2, -1, -2]))),
    st.lists(st.integers(-3, 2), min_size=0, max_size=3).map(np.array),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_index, min_size=1, max_size=3))
def test_random_keys_as_numpy(parts):
    key = tuple(p.astype(np.int64) if isinstance(p, np.ndarray) else p for p in parts)
    try:
        want = X[key]
    except IndexError:
        with pytest.raises(IndexError):
            T[key]
        return
    got = T[key]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
