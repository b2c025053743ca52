"""The metadata service at 169.254.169.254: proxies in qrouter/qdhcp namespaces, an agent-side
server that identifies the instance and answers (docs/metadata.md)."""
