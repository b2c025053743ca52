"""Operator tools: traffic probes now; trace, audit and topology later."""
