"""Benchmarks: scripts that measure lims at scale (``python -m benchmarks``)."""
