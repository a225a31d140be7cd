"""Development helpers: generated data to exercise the system before the real entry points exist."""
