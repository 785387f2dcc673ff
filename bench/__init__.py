"""Benchmark scripts that print figures (never timed asserts in tests). See bench/storefront.py."""
