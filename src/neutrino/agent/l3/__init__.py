"""The L3 agent: one qrouter namespace per router scheduled to this host: forwarding, SNAT, floating IPs."""
