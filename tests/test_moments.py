"""Variances from moments: a pass that only sums `(x - r) ** 2` (a variance
or standard deviation about a mean) is not swept; the first pass keeps each
chunk's float64 shifted sums (`codegen.plan.Moments`), per column in `cols`
kernels, per block in `full` ones. Compiled, on sizes that split into many
chunks, with NaN and infinities, far from zero, and the chunk's shift an
outlier."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import lazyops as lo

rng = np.random.default_rng(12)
N, M = 3000, 37  # 221 rows per chunk: 14 chunks
EDGES = [0, 220, 221, 284, 2999]
FLAT = 50_000  # 7 blocks of 8192 elements


def _compiled(*ts):
    with lo.config.override(small_work=0):
        return lo.evaluate(*ts)

def _source(t):
    with lo.config.override(small_work=0):
        return str(lo.explain(t, show="all"))


def _assert_var_close(got, a, axis=0):
    """A float32 variance within a few ulps of float64's (NumPy's own float32
    column variance is about 1e-5 off here)."""
    want = a.astype("float64").var(axis)
    ok = (np.isnan(got) & np.isnan(want)) | (np.abs(got - want) <= 4 * 2.0 ** -24 * np.abs(want))
    assert ok.all(), (got[~ok], want[~ok])


def test_column_variance_reads_its_input_once():
    """`var`, `std` and standardize over columns: the squared deviations come
    from each chunk's shifted moments, taken in the mean's pass (`Moments`):
    one sweep fewer, and float64-accurate even far from zero."""
    a = (rng.standard_normal((N, M)) * 3 + 1e4).astype("float32")
    for k, r in enumerate(EDGES[:3]):
        a[r, k] = [np.nan, np.inf, -np.inf][k]
    a[221, 5] = 3e4  # an outlier as a chunk's first row: its shift
    v = lo.var(a, axis=0)
    text = _source(v)
    assert "chunk means and squared deviations of L0" in text and text.count("prange(") == 1
    (got,) = _compiled(v)
    _assert_var_close(got, a)
    a -= np.float32(1e4 - 2)  # float32 near 1e4 rounds x - mean by 5e-4
    s = (a - lo.mean(a, axis=0, keepdims=True)) / lo.std(a, axis=0, keepdims=True)
    assert _source(s).count("prange(") == 2  # moments with the mean, then the output
    (got,) = _compiled(s)
    a64 = a.astype("float64")
    want = (a64 - a64.mean(0, keepdims=True)) / a64.std(0, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True)


def test_variance_over_leading_axes_of_3d():
    """`var` over the two leading axes of a 3-D input: moments per column of
    the flattened rows."""
    a = (rng.standard_normal((40, 50, 6)) * 2 + 7).astype("float32")
    t = lo.var(a, axis=(0, 1))
    assert "chunk means" in _source(t)
    (got,) = _compiled(t)
    _assert_var_close(got, a, axis=(0, 1))


def test_deviations_read_elsewhere_keep_their_pass():
    """The difference also stored per element: that pass still sweeps, and
    the sum stays an ordinary accumulator."""
    a = rng.standard_normal((N, M)).astype("float32")
    d = a - lo.mean(a, axis=0)
    t = [lo.mean(d * d, axis=0), d * 2.0]
    with lo.config.override(small_work=0):
        assert "chunk means" not in str(lo.explain(*t, show="all"))
        got = lo.evaluate(*t)
    _assert_var_close(got[0], a)
    np.testing.assert_allclose(got[1], (a - a.astype("float64").mean(0)) * 2, rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3000), m=st.integers(1, 40), offset=st.sampled_from([0.0, 1e3, -1e5]),
       scale=st.sampled_from([1e-3, 1.0, 1e3]), special=st.sampled_from([None, np.nan, np.inf]),
       seed=st.integers(0, 2 ** 16))
def test_column_variance_matches_its_definition(n, m, offset, scale, special, seed):
    """`var(a, axis=0)` compiled against its definition in float64 about its
    float32 mean (the kernel's, as NumPy's float32 `var` computes it about
    its own): any size (one chunk of a few rows, a last chunk of a few), far
    from zero, NaN or inf."""
    g = np.random.default_rng(seed)
    a = (g.standard_normal((n, m)) * scale + offset).astype("float32")
    if special is not None:
        a[g.integers(n), g.integers(m)] = special
    got, mean = _compiled(lo.var(a, axis=0), lo.mean(a, axis=0))
    with np.errstate(all="ignore"):
        want = ((a.astype("float64") - mean) ** 2).mean(0)
    ok = (np.isnan(got) & np.isnan(want)) | (np.abs(got - want) <= 4 * 2.0 ** -24 * np.abs(want))
    assert ok.all(), (got[~ok], want[~ok])



def test_full_variance_reads_its_input_once():
    """`var`, `std` and the z-score of a whole array: the variance from each
    block's moments, taken in the mean's pass."""
    x = (rng.standard_normal(FLAT) * 3 + 1e4).astype("float32")
    x[8191:8193] = [7e3, 2e4]  # around a block edge; 8192 is a block's shift
    v = lo.var(x)
    text = _source(v)
    assert "chunk means and squared deviations of L0" in text and text.count("prange(") == 1
    (got,) = _compiled(v)
    _assert_var_close(got, x, axis=None)
    y = x - np.float32(1e4 - 2)
    z = (y - lo.mean(y)) / lo.std(y)
    assert _source(z).count("prange(") == 2
    (got,) = _compiled(z)
    y64 = y.astype("float64")
    np.testing.assert_allclose(got, (y64 - y64.mean()) / y64.std(), rtol=1e-4, atol=1e-5)
    for special in (np.nan, np.inf):
        w = x.copy()
        w[8192] = special
        (got,) = _compiled(lo.std(w))
        assert np.isnan(got)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40_000), offset=st.sampled_from([0.0, 1e3, -1e5]),
       scale=st.sampled_from([1e-3, 1.0, 1e3]), seed=st.integers(0, 2 ** 16))
def test_full_variance_matches_its_definition(n, offset, scale, seed):
    """`var(x)` compiled against its definition in float64 about its float32
    mean (the kernel's): any size (empty, less than a block, a last block of
    a few elements)."""
    x = (np.random.default_rng(seed).standard_normal(n) * scale + offset).astype("float32")
    got, mean = _compiled(lo.var(x), lo.mean(x))
    with np.errstate(all="ignore"):
        want = ((x.astype("float64") - mean) ** 2).mean()
    assert (np.isnan(got) and np.isnan(want)) or abs(got - want) <= 4 * 2.0 ** -24 * abs(want)


def test_deviations_about_another_value_are_summed_element_by_element():
    """`(x - r)**2` about an r that is not x's mean (a max) keeps its pass:
    an infinite x gives inf there, where moments would give inf - inf
    (found in review)."""
    x = rng.standard_normal((N, 8)).astype("float32")
    x[5, 2] = -np.inf
    t = lo.convert_to_tensor(x)
    for s in (lo.sum((t - lo.max(t, 0, keepdims=True)) ** 2, 0), lo.sum((t - lo.max(t)) ** 2)):
        assert "chunk means" not in _source(s)
        (got,) = _compiled(s)
        with lo.config.override(small_work=1 << 62):
            (want,) = lo.evaluate(s)
        np.testing.assert_array_equal(got, want)
    assert np.isinf(_compiled(lo.sum((t - lo.max(t, 0, keepdims=True)) ** 2, 0))[0][2])


def test_float32_overflow_as_element_by_element():
    """A square or a sum beyond float32's range is inf, as NumPy's float32
    `std` gives, though the moments' float64 sums hold it (review)."""
    y = rng.standard_normal((N, 8)).astype("float32")
    y[7, 1] = 1e20
    for s, want in ((lo.std(y, axis=0), np.std(y, axis=0)), (lo.std(y), np.std(y)),
                    (lo.var(y * np.float32(1e15), axis=0), np.var(y * np.float32(1e15), axis=0))):
        assert "chunk means" in _source(s)
        (got,) = _compiled(s)
        with np.errstate(all="ignore"):
            assert np.array_equal(np.isinf(got), np.isinf(want)), (got, want)


def test_empty_arrays():
    """No elements: a sum of squared deviations is 0, a variance NaN, as on
    the interpreter (review)."""
    e = np.zeros((0, 8), "float32")
    for s in (lo.sum((e - lo.mean(e)) ** 2), lo.var(e), lo.sum((e - lo.mean(e, 0)) ** 2, 0),
              lo.var(e, axis=0)):
        (got,) = _compiled(s)
        with lo.config.override(small_work=1 << 62):
            (want,) = lo.evaluate(s)
        np.testing.assert_array_equal(got, want)
