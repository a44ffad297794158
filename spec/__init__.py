"""Data only: software requirements, properties and limits (YAML)."""
