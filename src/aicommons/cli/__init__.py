"""The `aicommons` command line: one module per domain, joined in main.py."""
