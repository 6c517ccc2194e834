"""The transparency log (RFC 6962 Merkle tree, C2SP checkpoints and tiles) and the token ledger."""
