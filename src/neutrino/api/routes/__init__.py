"""Route modules; ``resources.py`` builds the CRUD routes of every resource from its spec."""
