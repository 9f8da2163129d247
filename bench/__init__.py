"""Benchmarks of the generated gradient code against the usual alternatives."""
