"""Benchmarks of airflow-provider-chargebee; see docs/benchmarks.md.

Each benchmark is a module runnable as ``python -m bench.<name>`` that prints one
JSON line of figures; ``bench/run.sh NAME`` runs it several times and prints medians.
"""
