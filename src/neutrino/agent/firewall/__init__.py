"""The hybrid firewall: security groups on each port's qbr bridge, as one nftables table per host.

``rules`` renders the table (pure); ``sysctls`` checks the host namespace settings it relies on.
"""
