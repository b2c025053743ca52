"""HTTP only: routes translate requests into service calls and domain errors into faults."""
