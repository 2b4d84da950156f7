"""lazyops.codegen: lowers kernels to Numba source, compiles, caches and runs them."""
