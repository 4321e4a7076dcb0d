"""Which URLs may be fetched: http(s) only, and never an internal address unless allowed.

The check runs on the resolved addresses (a public name can point at
127.0.0.1) and again on every redirect hop, since a public page can redirect
to a cloud metadata service such as 169.254.169.254.  Link-local and
multicast addresses stay refused even when private hosts are allowed.
Known gap: the name is resolved again by the HTTP client when it connects,
so a DNS server that answers differently the second time (rebinding) is not
caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

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


def resolve_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UnsafeURL(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise UnsafeURL unless every address the URL's host resolves to may be contacted."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"only http and https URLs are fetched, not {parts.scheme or 'a scheme-less URL'!r}: {url}")
    host = parts.hostname
    if not host:
        raise UnsafeURL(f"no host in URL {url}")
    for address in resolve_addresses(host):
        problem = _address_problem(address, allow_private)
        if problem:
            hint = "" if allow_private or problem.startswith(("a link-local", "a multicast", "an unspecified")) else " (use --allow-private-hosts for local mirrors and tests)"
            raise UnsafeURL(f"refused {url}: {host} resolves to {address}, {problem}{hint}")
