"""lazyops.scheduler: cuts an optimized function into kernels."""
