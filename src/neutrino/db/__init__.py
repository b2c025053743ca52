"""Database plumbing: engine, transactions with retry, migrations."""
