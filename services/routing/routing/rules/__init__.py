"""Routing's rule tables (TOML data files) and the code that reads them."""
