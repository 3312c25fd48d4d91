"""Pieces of benchmarks/cluster.py (not benchmarks themselves)."""
