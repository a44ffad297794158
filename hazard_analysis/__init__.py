"""Data only: the ISO 14971 risk management file (YAML)."""
