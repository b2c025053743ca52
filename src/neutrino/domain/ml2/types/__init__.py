"""ML2 type drivers (one module per network type) and their shared pure helpers."""
