"""profile layer."""
