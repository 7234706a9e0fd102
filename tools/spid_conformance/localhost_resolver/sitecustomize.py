"""Resolve `*.localhost` to the loopback address, as RFC 6761 (6.3) says and browsers do.

Put on PYTHONPATH only for spid-sp-test's process during `make spid-test`,
so it can reach each comune's host (romanodilombardia.localhost) without
editing /etc/hosts. glibc here does not resolve subdomains of localhost.
"""

import socket

_getaddrinfo = socket.getaddrinfo


def _localhost_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _localhost_getaddrinfo
