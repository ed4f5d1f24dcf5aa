"""Benchmarks of dvlite against DVC: `make bench` (python -m bench --help)."""
