"""Validation against the SIMULATED truth: repeated samples, bias and interval coverage
(``benchmarks/coverage.py``). A consumer of every layer, beside ``pollwaves.stages``.
"""
