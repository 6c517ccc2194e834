"""Governance: members propose and vote, and the outcome executes itself on the ledger."""
