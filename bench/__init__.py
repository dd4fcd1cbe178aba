"""The mlkg benchmark suite: synthetic corpora and graphs, and ``python -m bench.run``.

See ``BENCHMARKS.md`` (written by the run) and ``docs/benchmarks.md`` (how to run it).
"""
