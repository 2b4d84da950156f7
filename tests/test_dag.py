"""Random programs over the whole API (tests/programs.py): the default path
and the all-compiled path agree with the NumPy interpreter and with
keras.ops on NumPy, in values, shapes and dtypes; nothing raises at force
time; a step rejected at record time is rejected by NumPy too. The tiered
first run, which interprets row-wise kernels a chunk at a time, gives what
interpreting them whole gives, bit for bit.

On failure the hypothesis report includes a self-contained reproducer. The
same generator drives `bench/fuzz.py`, which runs thousands of programs and
shrinks what it finds (`--shrink`).
"""
import os
import random

from hypothesis import HealthCheck, Phase, example, given, note, settings

import programs as P

# Bounded so both tests together take well under a minute on two cores
# (kernels are cached on disk by structure, so later runs are faster).
COMMON = dict(deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
# Shrinking a compiled failure compiles a new kernel per try (minutes):
# off unless LAZYOPS_DAG_SHRINK=1; the report has the reproducer either way.
COMPILED_PHASES = (tuple(Phase) if os.environ.get("LAZYOPS_DAG_SHRINK")
                   else (Phase.explicit, Phase.reuse, Phase.generate))


# Explicit examples on big arrays (NaN/inf at the 8192-element block
# boundaries of the parallel loops), which hypothesis draws only now and then.
BIG = [P.generate(random.Random(f"test_dag:big:{k}"), max_steps=8, big=1.0, keep_error=False)
       for k in (15, 103, 105)]


def _check(prog, subject):
    note(prog.reproducer(subject))
    out = P.check_program(prog, subject)
    assert out.ok, out.report()


@settings(max_examples=100, **COMMON)
@given(P.programs(max_steps=12, big=0.1))
@example(BIG[0])
def test_random_programs_default_path(prog):
    _check(prog, "default")


@settings(max_examples=25, phases=COMPILED_PHASES, **COMMON)
@given(P.programs(max_steps=8, big=0.15))
@example(BIG[0])
@example(BIG[1])
@example(BIG[2])
def test_random_programs_compiled(prog):
    _check(prog, "compiled")


@settings(max_examples=60, **COMMON)
@given(P.programs(max_steps=12, big=0.15))
@example(BIG[0])
def test_random_programs_chunked_first_runs(prog):
    """Every plan's tiered first run interprets its row-wise kernels a few
    elements at a time: bit for bit what the whole-array run gives."""
    _check(prog, "chunked")
