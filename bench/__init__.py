"""Benchmarks of the registry against the raw limits of its building blocks, measured in one run.

``python -m bench run [--quick]`` runs every scenario and its raw baseline back to back, prints one table and
writes ``bench/results/latest.json``. Scenarios live in :mod:`bench.scenarios`, one module each.
"""
