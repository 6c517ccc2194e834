"""Performance benchmarks of AI Commons: community browse and search over HTTP, `make demo` startup, and
the transparency log and token ledger (appends, transfers, inclusion proofs, `aicommons ledger verify`),
and datasets (a 1 GB CSV upload, statistics of a 10-million-row version, catalog search).

Run them with `make bench` (or `.venv/bin/python -m benchmarks`); README.md says what each one measures.
"""
