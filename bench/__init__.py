"""Benchmarks: each ``bench/bench_<name>.py`` measures real code on the real data path."""
