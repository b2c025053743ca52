"""Business rules of the Neutron model: no HTTP, no shell, only a database session."""
