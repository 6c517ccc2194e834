"""Performance benchmarks of AI Commons: community browse and search over HTTP, and `make demo` startup.

Run them with `make bench` (or `.venv/bin/python -m benchmarks`); README.md says what each one measures.
"""
