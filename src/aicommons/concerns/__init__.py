"""The concerns domain."""
