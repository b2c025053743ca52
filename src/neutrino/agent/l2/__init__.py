"""The Open vSwitch L2 agent: bridges, local VLANs, flow tables."""
