"""QoS: the rule types and their parameters (pure), and what a port's policy asks of the agent."""
