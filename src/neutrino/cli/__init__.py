"""Command-line entry points (composition roots: they pick the concrete adapters)."""
