"""Speed and size benchmarks: `python -m benchmarks [--quick] [--json]` (see BENCHMARKS.md).

Every row is measured side by side with its baseline in the same run. The older scripts
(`bench_*.py`) still run on their own for their detailed sections of BENCHMARKS.md; the
harness reuses their measuring code.
"""
