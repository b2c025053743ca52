"""The only code that touches the kernel or daemons.

Each module is a small adapter behind a protocol (``ports.py``): command execution
(``exec``), netlink (``netlink``), OVSDB (``ovsdb``), OpenFlow (``openflow``), nftables
(``nftables``), supervised daemons (``daemons``, ``ovs``), plus ``naming`` (device and namespace
names) and ``host`` (which namespace and OVS instance is "the host"). ``fake`` implements the
same protocols in memory for unit tests. Creates and deletes are idempotent; failures are
``errors.TemporaryError`` (retry later) or ``errors.PermanentError`` (fix the input).
"""
