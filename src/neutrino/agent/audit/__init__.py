"""The audit: desired state against the dataplane, drift reported and repaired (docs/audit.md)."""
