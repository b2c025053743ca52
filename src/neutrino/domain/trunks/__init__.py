"""Trunks: the rules of subports (pure) and the status a trunk reports."""
