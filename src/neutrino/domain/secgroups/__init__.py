"""Pure rules of security groups and the port attributes around them (no database).

``protocols``: IP protocol names and numbers as Neutron accepts them; ``rules``: a security
group rule's normalisation, validation and duplicate key, and the default rule templates;
``address_pairs`` and ``dhcp_opts``: validation of a port's allowed address pairs and extra
DHCP options. Services call these with plain values and get plain values or a NeutronError.
"""
