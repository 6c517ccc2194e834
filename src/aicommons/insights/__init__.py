"""The insights domain."""
