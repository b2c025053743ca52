"""Serve real Neutron's API (its WSGI application) on one port, for ``bench/api.py --with-neutron``.

Run by the Python of the Neutron virtualenv (``.bench-neutron-venv``), not the project's:
``python bench/neutron_wsgi.py PORT CONFIG_DIR``. Neutron 29 ships no HTTP server of its own
(deployments put its WSGI application under uWSGI or Apache); Paste's HTTP/1.1 server, which
Neutron already depends on, serves it here in one process with a thread per connection, as
one uWSGI worker would. Its sockets get TCP_NODELAY, as uWSGI's and Apache's have: without it,
a response written in two pieces waits for the client's delayed ACK (40 ms) before the second.
"""

import os
import sys


def main() -> None:
    port, conf_dir = int(sys.argv[1]), sys.argv[2]
    os.environ["OS_NEUTRON_CONFIG_DIR"] = conf_dir
    os.environ["OS_NEUTRON_CONFIG_FILES"] = "neutron.conf"
    del sys.argv[1:]  # Neutron parses the command line as oslo.config options
    from neutron.wsgi.api import application  # builds the app from the config files
    import socketserver

    from paste import httpserver

    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    httpserver.serve(application, host="127.0.0.1", port=port, protocol_version="HTTP/1.1")


if __name__ == "__main__":
    main()
