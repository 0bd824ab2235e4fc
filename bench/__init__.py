"""Benchmarks for OroCert (``make bench`` / ``python -m bench``): every figure is compared with a floor measured in the
same run, and written to ``bench/results.json``. See :mod:`bench.run`."""
