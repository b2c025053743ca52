"""Agents: level-triggered reconcilers that make a host's desired state real."""
