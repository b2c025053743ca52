"""Files for deploying neutrino on real hosts: systemd units and example settings (docs/deployment.md)."""
