"""Which webhook URLs the server may POST to.

A webhook makes our server send requests to an address a person typed: without a check, an
admin (or anyone who takes over an admin's session) could point it at the cloud's metadata
service (169.254.169.254), the database, Redis or an admin page on the private network, and
read a bit of the answer in the delivery log. So in production
(WEBHOOKS_ALLOW_PRIVATE_URLS off) a URL whose host resolves to any address that is not on the
public internet is refused: when it is saved, and again before every try, since what a name
resolves to can change.

The limit, honestly: the check resolves the name, then httpx resolves it again to connect.
A DNS server that answers a public address to the first look and a private one to the
second (DNS rebinding, with a zero TTL) slips through. Pinning the checked address for the
connection would close that; we do not, to keep TLS certificate checks on the name simple.
Run the worker where it cannot reach what matters (egress firewall) if that risk counts.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .models import URL_MAX_LENGTH

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """A webhook URL we will not POST to, with the reason in words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def private_urls_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", settings.DEBUG))


def parse(url: str) -> Target:
    """The URL's scheme, host and port, or UrlRefused saying what is wrong with its shape."""
    url = url.strip()
    if not url:
        raise UrlRefused("Enter the URL the events are sent to.")
    if len(url) > URL_MAX_LENGTH:
        raise UrlRefused(f"The URL is {len(url)} characters long; at most {URL_MAX_LENGTH}.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UrlRefused("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlRefused(f"This is not a valid URL ({error}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("The URL must start with https:// (or http://).")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UrlRefused("The URL must not contain a user name or password (user@host): put a token in the path or query.")
    host = parts.hostname or ""
    if not host:
        raise UrlRefused("The URL has no host name.")
    if port == 0:
        raise UrlRefused("The URL's port must be between 1 and 65535.")
    try:
        host.encode("idna")
    except UnicodeError:
        raise UrlRefused(f"The host name {host!r} is not valid.") from None
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def why_not_public(address: IPAddress) -> str:
    """Why this address is not one webhooks may reach ("" when it is public)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            reason = why_not_public(embedded)
            return f"{reason} (inside the IPv6 address {address})" if reason else ""
    for test, words in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private-network address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, test):
            return f"{address} is {words}"
    if not address.is_global:
        return f"{address} is not a public internet address"
    return ""


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to (a literal address is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise UrlRefused(f"The host name {host} cannot be resolved ({error}).") from None
    addresses = []
    for info in infos:
        # Strip an IPv6 zone ("fe80::1%eth0"): the address alone decides.
        addresses.append(ipaddress.ip_address(info[4][0].split("%", 1)[0]))
    return addresses


def check(url: str) -> Target:
    """The URL's target, or UrlRefused: a bad shape always; in production also a host that
    resolves to any address off the public internet (all of them must be public, since the
    connection may use any)."""
    target = parse(url)
    if private_urls_allowed():
        return target
    for address in resolve(target.host, target.port):
        reason = why_not_public(address)
        if reason:
            named = "" if target.host == str(address) else f"{target.host} resolves to "
            raise UrlRefused(f"Refused: {named}{reason}. Webhooks go only to public internet addresses.")
    return target
