"""The audit's pure parts: drift between desired state and the dataplane, as data (docs/audit.md)."""
