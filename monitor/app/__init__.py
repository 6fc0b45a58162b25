"""The service functions (one per command) and the thin CLI over them."""
