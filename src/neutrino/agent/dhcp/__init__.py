"""The DHCP agent: one qdhcp namespace with dnsmasq per network scheduled to this host."""
