"""ML2 mechanism drivers shipped with neutrino (more can come from other packages)."""
