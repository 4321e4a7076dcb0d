"""Which URLs may be fetched: http(s) only, and never an internal address unless allowed.

The check runs on the resolved addresses (a public name can point at
127.0.0.1) and again on every redirect hop, since a public page can redirect
to a cloud metadata service such as 169.254.169.254.  Link-local and
multicast addresses stay refused even when private hosts are allowed.

DNS rebinding (a name that resolves to a public address for the check and to
an internal one for the connection) is closed by ``CheckedBackend``: the HTTP
client's connections resolve the name once, check those addresses, and
connect to a checked address, so what is connected to is what was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore

ALLOWED_SCHEMES = ("http", "https")


class UnsafeURL(ValueError):
    """The URL must not be fetched; the message says why."""


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private or reserved address"
    return None


def system_resolver(host: str) -> list[str]:
    """The host's addresses as the operating system resolves them (getaddrinfo)."""
    return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def resolve_addresses(host: str, resolver=system_resolver) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = resolver(host)
    except socket.gaierror as exc:
        raise UnsafeURL(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    return [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]


def checked_addresses(host: str, allow_private: bool, resolver=system_resolver, what: str | None = None):
    """The host's addresses, all of them allowed; raises UnsafeURL naming the first that is not."""
    addresses = resolve_addresses(host, resolver)
    for address in addresses:
        problem = _address_problem(address, allow_private)
        if problem:
            hint = "" if allow_private or problem.startswith(("a link-local", "a multicast", "an unspecified")) else " (use --allow-private-hosts for local mirrors and tests)"
            raise UnsafeURL(f"refused {what or host}: {host} resolves to {address}, {problem}{hint}")
    return addresses


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's network backend that connects only to addresses it has just checked.

    The name is resolved once per connection; every address is checked; the
    socket is opened to the first of them by number (TLS still verifies the
    name: httpcore passes the URL's host as the server name).  A resolver
    answering differently for the check in ``check_url`` and for the
    connection therefore cannot steer the connection inside the network.
    """

    def __init__(self, allow_private: bool, resolver=system_resolver):
        self.allow_private = allow_private
        self.resolver = resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = checked_addresses(host, self.allow_private, self.resolver, f"the connection to {host}:{port}")[0]
        return super().connect_tcp(str(address), port, timeout, local_address, socket_options)


def check_url(url: str, allow_private: bool = False, resolver=system_resolver) -> None:
    """Raise UnsafeURL unless every address the URL's host resolves to may be contacted."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"only http and https URLs are fetched, not {parts.scheme or 'a scheme-less URL'!r}: {url}")
    host = parts.hostname
    if not host:
        raise UnsafeURL(f"no host in URL {url}")
    checked_addresses(host, allow_private, resolver, url)
