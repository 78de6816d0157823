"""Benchmarks of the poll cycle, card latency, clicks, audit queries and memory, each runnable with python -m."""
