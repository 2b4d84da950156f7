#!/usr/bin/env python
"""Loops and scans: a linear recurrence `h = a*h + x_t` over T steps
(keras.ops.scan), against a Python loop over NumPy, `jax.lax.scan` (CPU jit)
and a hand-written Numba loop; the same over rows of 1000 elements, with
elementwise work before and after it that lazyops runs inside the loop; a
body that reduces its carry each step (1000 steps of 256 elements), and
a fori_loop reading its index beside it; cumsum of 10M float32 (with and
without fused work) against NumPy; the linear recurrence as an
associative_scan of pairs, of a combine with a division (tiled), and a
running maximum and logaddexp through associative_scan, against Keras, JAX,
NumPy and Numba.
NumPy arrays in, a NumPy array out, conversion inside the timed call;
contenders interleaved, min over repeats.

    python bench/bench_loops.py                 # T = 1M steps, 10M cumsum
    python bench/bench_loops.py --steps 100000 --size 1000000 --repeats 3
"""
import argparse
import os
import random
import time

os.environ.setdefault("KERAS_BACKEND", "numpy")

import numpy as np  # noqa: E402

A = np.float32(0.9)


def contenders_recurrence(xs):
    import lazyops as lo
    from numba import njit

    def lazyops_scan():
        _, ys = lo.scan(lambda h, x: (A * h + x,) * 2, np.float32(0), xs)
        return ys.numpy()

    def python_numpy():
        h, ys = np.float32(0), np.empty_like(xs)
        for t in range(xs.size):
            h = A * h + xs[t]
            ys[t] = h
        return ys

    @njit(cache=True)
    def loop(xs, a):
        ys, h = np.empty_like(xs), np.float32(0)
        for t in range(xs.size):
            h = a * h + xs[t]
            ys[t] = h
        return ys

    out = {"lazyops": lazyops_scan, "python+numpy": python_numpy,
           "numba (hand-written)": lambda: loop(xs, A)}
    try:
        import jax
        import jax.numpy as jnp

        @jax.jit
        def jscan(xs):
            return jax.lax.scan(lambda h, x: ((A * h + x,) * 2), jnp.float32(0), xs)[1]
        out["jax.lax.scan"] = lambda: np.asarray(jscan(xs).block_until_ready())
    except ImportError:
        pass
    return out


def contenders_fused_scan(x):
    """`tanh(ys) * x + 1` where `ys` are the states of `h = a*h + exp(x_t) * 0.5`
    over the rows of x (T steps of n elements): lazyops runs the exp, the
    recurrence and the work on its outputs as one loop kernel."""
    import lazyops as lo
    from numba import njit, prange

    def pipeline(ops):
        _, ys = ops.scan(lambda h, v: (A * h + v,) * 2, ops.zeros(x.shape[1:], "float32"),
                         ops.exp(x) * 0.5)
        return ops.tanh(ys) * x + 1

    @njit(parallel=True, cache=True)
    def loop(x, a):  # blocks of 64 columns in parallel, each step over a block's run of a row
        out = np.empty_like(x)
        T, n = x.shape
        for b in prange((n + 63) // 64):
            lo, hi = b * 64, min(n, b * 64 + 64)
            h = np.zeros(hi - lo, np.float32)
            for t in range(T):
                for j in range(hi - lo):
                    v = x[t, lo + j]
                    h[j] = a * h[j] + np.exp(v) * np.float32(0.5)
                    out[t, lo + j] = np.tanh(h[j]) * v + np.float32(1)
        return out

    out = {"lazyops": lambda: pipeline(lo).numpy(), "numba (hand-written)": lambda: loop(x, A),
           "numpy": lambda: _numpy_pipeline(x)}
    try:
        import jax
        import jax.numpy as jnp

        @jax.jit
        def jpipe(x):
            _, ys = jax.lax.scan(lambda h, v: ((A * h + v,) * 2), jnp.zeros(x.shape[1:], x.dtype),
                                 jnp.exp(x) * 0.5)
            return jnp.tanh(ys) * x + 1
        out["jax.lax.scan"] = lambda: np.asarray(jpipe(x).block_until_ready())
    except ImportError:
        pass
    return out


def _numpy_pipeline(x):
    e, h, ys = np.exp(x) * np.float32(0.5), np.zeros(x.shape[1:], "float32"), np.empty_like(x)
    for t in range(x.shape[0]):
        h = A * h + e[t]
        ys[t] = h
    return np.tanh(ys) * x + 1


def contenders_reducing(x):
    """`h = h / (sum(|h|) + 1) + x_t` over the rows of x: a body that reduces
    its carry each step, which lazyops runs as one compiled loop calling the
    body's kernel (`codegen/driver.py`), against Keras's NumPy backend, a
    Python loop over NumPy, `jax.lax.scan` and a hand-written Numba loop."""
    import keras
    import lazyops as lo
    from numba import njit

    def body(ops):
        return lambda h, v: (h / (ops.sum(ops.abs(h)) + 1.0) + v, None)

    def python_numpy():
        h = np.zeros(x.shape[1], np.float32)
        for t in range(x.shape[0]):
            h = h / (np.abs(h).sum() + np.float32(1)) + x[t]
        return h

    @njit(cache=True)
    def loop(x):
        h = np.zeros(x.shape[1], np.float32)
        for t in range(x.shape[0]):
            s = np.float32(0)
            for j in range(h.size):
                s += abs(h[j])
            for j in range(h.size):
                h[j] = h[j] / (s + np.float32(1)) + x[t, j]
        return h

    zeros = np.zeros(x.shape[1], np.float32)
    out = {"lazyops": lambda: lo.scan(body(lo), zeros, x)[0].numpy(),
           "keras (numpy)": lambda: keras.ops.convert_to_numpy(
               keras.ops.scan(body(keras.ops), zeros, x)[0]),
           "python+numpy": python_numpy, "numba (hand-written)": lambda: loop(x)}
    try:
        import jax
        import jax.numpy as jnp

        @jax.jit
        def jscan(x):
            return jax.lax.scan(lambda h, v: (h / (jnp.abs(h).sum() + 1.0) + v, None),
                                jnp.zeros(x.shape[1], x.dtype), x)[0]
        out["jax.lax.scan"] = lambda: np.asarray(jscan(x).block_until_ready())
    except ImportError:
        pass
    return out


def contenders_cumsum(x):
    import lazyops as lo
    return {
        "cumsum": {"lazyops": lambda: lo.cumsum(x).numpy(), "numpy": lambda: np.cumsum(x)},
        "cumsum(exp(x))*2": {"lazyops": lambda: (lo.cumsum(lo.exp(x)) * 2).numpy(),
                             "numpy": lambda: np.cumsum(np.exp(x)) * 2},
    }


def contenders_associative(x, combine="maximum"):
    """A running `combine` (maximum or logaddexp) through `associative_scan`:
    lazyops's scan kernel against Keras's NumPy backend (the same function),
    `jax.lax.associative_scan` and NumPy's own `accumulate` (results in
    float64, as Keras's)."""
    import keras
    import lazyops as lo
    f, kf = getattr(lo, combine), getattr(keras.ops, combine)
    out = {"lazyops": lambda: lo.associative_scan(f, x).numpy(),
           # the same values through a function of two ops: a left fold (one
           # recurrence kernel) for maximum, Keras's odd/even recursion
           # recorded lazily for logaddexp (transcendental ops)
           "lazyops (f of two ops)": lambda: lo.associative_scan(
               lambda a, b: f(a, b) * 1.0, x).numpy(),
           "keras (numpy)": lambda: keras.ops.convert_to_numpy(keras.ops.associative_scan(kf, x)),
           "numpy accumulate": lambda: getattr(np, combine).accumulate(x).astype(np.float64)}
    try:
        import jax
        jf = getattr(jax.numpy, combine)
        jscan = jax.jit(lambda v: jax.lax.associative_scan(jf, v))
        out["jax associative_scan"] = lambda: np.asarray(jscan(x).block_until_ready(),
                                                         dtype=np.float64)
    except ImportError:
        pass
    return out


def contenders_indexed(h0, steps):
    """`h = h / (sum(|h|) + 1) + i * 1e-3` for i in range(steps)
    (`fori_loop` reading its index beside a reduction: two kernels per
    step, run by lazyops in one compiled loop), against Keras's NumPy
    backend, a Python loop over NumPy, `jax.lax.fori_loop` and a
    hand-written Numba loop."""
    import keras
    import lazyops as lo
    from numba import njit

    def body(ops):
        return lambda i, h: h / (ops.sum(ops.abs(h)) + 1.0) + ops.cast(i, "float32") * 1e-3

    def python_numpy():
        h = h0
        for i in range(steps):
            h = h / (np.abs(h).sum() + np.float32(1)) + np.float32(i) * np.float32(1e-3)
        return h

    @njit(cache=True)
    def loop(h0, steps):
        h = h0.copy()
        for i in range(steps):
            s = np.float32(0)
            for j in range(h.size):
                s += abs(h[j])
            for j in range(h.size):
                h[j] = h[j] / (s + np.float32(1)) + np.float32(i) * np.float32(1e-3)
        return h
    out = {"lazyops": lambda: lo.fori_loop(0, steps, body(lo), h0).numpy(),
           "keras (numpy)": lambda: keras.ops.convert_to_numpy(
               keras.ops.fori_loop(0, steps, body(keras.ops), h0)),
           "python+numpy": python_numpy, "numba (hand-written)": lambda: loop(h0, steps)}
    try:
        import jax
        import jax.numpy as jnp
        jloop = jax.jit(lambda h: jax.lax.fori_loop(
            0, steps, lambda i, h: h / (jnp.abs(h).sum() + 1.0) + i.astype(h.dtype) * 1e-3, h))
        out["jax fori_loop"] = lambda: np.asarray(jloop(h0).block_until_ready())
    except ImportError:
        pass
    return out


def contenders_linear_pairs(a, b):
    """`h = a_t * h + b_t` written as `associative_scan` of pairs with the
    combine `(l[0] * r[0], r[0] * l[1] + r[1])` (the linear recurrence's
    usual parallel form): lazyops, Keras's NumPy backend and JAX's
    `associative_scan`, against a hand-written Numba loop (results in
    float64, as Keras's)."""
    import keras
    import lazyops as lo
    from numba import njit

    def comb(ops):
        return lambda l, r: (l[0] * r[0], r[0] * l[1] + r[1])

    @njit(cache=True)
    def loop(a, b, out):
        h = np.float64(b[0])
        out[0] = h
        for t in range(1, a.size):
            h = np.float64(np.float32(a[t] * np.float32(h)) + b[t])
            out[t] = h
    out = {"lazyops": lambda: lo.associative_scan(comb(lo), (a, b))[1].numpy(),
           "keras (numpy)": lambda: keras.ops.convert_to_numpy(
               keras.ops.associative_scan(comb(keras.ops), (a, b))[1]),
           "numba (hand-written)": lambda: _filled(loop, a, b)}
    try:
        import jax
        jscan = jax.jit(lambda p, q: jax.lax.associative_scan(comb(jax.numpy), (p, q))[1])
        out["jax associative_scan"] = lambda: np.asarray(jscan(a, b).block_until_ready(),
                                                         dtype=np.float64)
    except ImportError:
        pass
    return out


def contenders_harmonic(x):
    """`associative_scan` of `p * q / (p + q)` (resistors in parallel: a
    combine with a division, which lazyops runs in parallel tiles along the
    axis), against Keras's NumPy backend, JAX's `associative_scan` and a
    hand-written Numba loop (one chain; results in float64, as Keras's)."""
    import keras
    import lazyops as lo
    from numba import njit

    def comb(ops):
        return lambda p, q: p * q / (p + q)

    @njit(cache=True)
    def loop(a, _, out):
        h = np.float32(a[0])
        out[0] = h
        for t in range(1, a.size):
            h = np.float32(h * a[t] / (h + a[t]))
            out[t] = h
    out = {"lazyops": lambda: lo.associative_scan(comb(lo), x).numpy(),
           "keras (numpy)": lambda: keras.ops.convert_to_numpy(
               keras.ops.associative_scan(comb(keras.ops), x)),
           "numba (hand-written)": lambda: _filled(loop, x, x)}
    try:
        import jax
        jscan = jax.jit(lambda v: jax.lax.associative_scan(comb(jax.numpy), v))
        out["jax associative_scan"] = lambda: np.asarray(jscan(x).block_until_ready(),
                                                         dtype=np.float64)
    except ImportError:
        pass
    return out


def _filled(loop, a, b):
    out = np.empty(a.size, np.float64)
    loop(a, b, out)
    return out


def timed(fns, repeats, slow=()):
    """Min seconds per contender over `repeats` interleaved rounds (contenders
    in `slow` run once a round only for the first two rounds), in a new
    order each round: the state one leaves (caches evicted, threads
    spinning) falls on a different one each time."""
    best = {k: float("inf") for k in fns}
    for r in range(repeats):
        order = list(fns.items())
        random.Random(r).shuffle(order)
        for k, f in order:
            if k in slow and r >= 2:
                continue
            t0 = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def report(title, best, base):
    print(f"=== {title} ===")
    for k, t in sorted(best.items(), key=lambda kv: kv[1]):
        print(f"  {k:<22}{t * 1e3:>10.2f} ms   {best[base] / t:>8.2f}x vs {base}")


def checked(fns, want):
    """Each contender's first calls (compiles), its result checked against `want`."""
    import lazyops as lo
    for k, f in fns.items():
        f()
        lo.wait_for_kernels()
        np.testing.assert_allclose(f(), want, rtol=1e-4, atol=1e-4, err_msg=k)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--size", type=int, default=10_000_000)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    import lazyops as lo

    xs = rng.standard_normal(args.steps, dtype=np.float32)
    fns = contenders_recurrence(xs)
    checked(fns, fns["numba (hand-written)"]())
    best = timed(fns, args.repeats, slow={"python+numpy"})
    report(f"h = a*h + x_t over {args.steps:,} steps (float32)", best, "numba (hand-written)")

    x = rng.standard_normal((args.steps // 100, 1000), dtype=np.float32)
    fns = contenders_fused_scan(x)
    checked(fns, fns["numba (hand-written)"]())
    report(f"tanh(scan(a*h + exp(x_t)*0.5)) * x + 1, {x.shape[0]:,} steps of "
           f"{x.shape[1]:,} float32", timed(fns, args.repeats), "numpy")

    x = rng.standard_normal((args.steps // 1000, 256), dtype=np.float32)
    fns = contenders_reducing(x)
    checked(fns, fns["numba (hand-written)"]())
    report(f"h = h / (sum(|h|) + 1) + x_t, {x.shape[0]:,} steps of {x.shape[1]} float32",
           timed(fns, args.repeats, slow={"keras (numpy)"}), "python+numpy")

    h0 = rng.standard_normal(256, dtype=np.float32)
    fns = contenders_indexed(h0, args.steps // 1000)
    checked(fns, fns["numba (hand-written)"]())
    report(f"fori_loop: h = h / (sum(|h|) + 1) + i*1e-3, {args.steps // 1000:,} steps of 256 "
           "float32", timed(fns, args.repeats, slow={"keras (numpy)"}), "python+numpy")

    x = rng.standard_normal(args.size, dtype=np.float32)
    exact = {"cumsum": np.cumsum(x.astype(np.float64)),
             "cumsum(exp(x))*2": np.cumsum(np.exp(x.astype(np.float64))) * 2}
    for title, fns in contenders_cumsum(x).items():
        for f in fns.values():
            f()
        lo.wait_for_kernels()
        report(f"{title}, {args.size:,} float32", timed(fns, args.repeats), "numpy")
        # float32 running sums drift from the exact (float64) one, NumPy's
        # sequential one most where the terms are all positive
        scale = np.abs(exact[title]).max()
        for k, f in fns.items():
            err = np.abs(f().astype(np.float64) - exact[title]).max() / scale
            print(f"  {k:<22}max error {err:.1e} of the largest partial sum")
            assert err < 1e-2, (title, k, err)

    x = x[:args.size // 10]
    a = rng.uniform(0.5, 1.0, x.size).astype(np.float32)
    fns = contenders_linear_pairs(a, x)
    checked(fns, fns["numba (hand-written)"]())
    report(f"associative_scan of (a_t, x_t) pairs: h = a_t*h + x_t, {x.size:,} float32",
           timed(fns, args.repeats, slow={"keras (numpy)"}), "numba (hand-written)")

    r = rng.uniform(0.5, 2.0, x.size).astype(np.float32)
    fns = contenders_harmonic(r)
    checked(fns, fns["numba (hand-written)"]())
    report(f"associative_scan(p*q/(p+q)), {x.size:,} float32 (tiled)",
           timed(fns, args.repeats, slow={"keras (numpy)"}), "numba (hand-written)")

    for combine in ("maximum", "logaddexp"):
        fns = contenders_associative(x, combine)
        want = getattr(np, combine).accumulate(x.astype(np.float64))
        for k, f in fns.items():
            f()
            lo.wait_for_kernels()
            # float32 running logaddexp (NumPy's accumulate) drifts from float64's
            np.testing.assert_allclose(f(), want, rtol=1e-5 if combine == "maximum" else 2e-3,
                                       err_msg=k)
        report(f"associative_scan({combine}), {x.size:,} float32", timed(fns, args.repeats),
               "numpy accumulate")


if __name__ == "__main__":
    main()
