"""Blocklist values: their canonical form, and whether DNS can block the name at all.

A resolver blocks host names, so every entry comes down to one: the URL's host,
or the domain of a domain-level entry. A name that is not a proper DNS name (an IP
address, a `.onion` name, a bare public suffix such as `co.uk`) must never reach
an export, where it would be ignored at best and block a whole country's web at
worst.
"""

from __future__ import annotations

import functools
import ipaddress
import re

import idna
from publicsuffixlist import PublicSuffixList

from openhotline.blocking.models import EntryKind
from openhotline.lib.urlnorm import UrlError, host_of, normalize_url

_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TLD_RE = re.compile(r"[a-z](?:[a-z0-9-]*[a-z0-9])?")


class EntryValueError(ValueError):
    """A value that cannot be a blocklist entry; the message says why."""


def canonical_entry(value: str, kind: str) -> tuple[str, str]:
    """Return ``(value, host)`` in canonical form for an entry of ``kind``, or raise.

    A URL entry keeps the canonical URL; a host or domain entry is the canonical
    host name (given bare or as a URL; a domain also as ``*.name``).
    """
    text = value.strip()
    try:
        if kind == EntryKind.URL:
            url = normalize_url(text)
            host = host_of(url)
        elif kind in (EntryKind.DOMAIN, EntryKind.HOST):
            if text.startswith("*.") and kind == EntryKind.DOMAIN:
                text = text[2:]
            host = host_of(text if "://" in text else f"http://{text}")
            url = host
        else:
            raise EntryValueError(f"unknown kind {kind!r} (url, host or domain)")
    except UrlError as exc:
        raise EntryValueError(str(exc)) from None
    problem = dns_name_problem(host, kind=kind)
    if problem:
        raise EntryValueError(problem)
    return url, host


def dns_name_problem(host: str, *, kind: str) -> str:
    """Why ``host`` cannot be blocked by DNS as an entry of ``kind``; empty when it can.

    1. Refuse addresses and `.onion` names: DNS does not resolve them.
    2. Check the shape: total length, labels of letters, digits, hyphens and
       underscores, no empty label, an alphabetic top-level label.
    3. Check punycode labels decode.
    4. A domain or host entry must not be a public suffix itself ("com",
       "co.uk", "blogspot.com"): a domain would block everyone's sites below
       it, and a suffix's own name is the shared service's front door.
    """
    if not host:
        return "empty name"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"{host} is an IP address; DNS blocking works on names"
    if len(host) > 253:
        return "name longer than 253 characters"
    labels = host.split(".")
    if len(labels) < 2:
        return f"{host} is a single label, not a domain name"
    if labels[-1] == "onion":
        return f"{host} is a .onion name, which DNS cannot block"
    for label in labels:
        if not _LABEL_RE.fullmatch(label):
            return f"{host} has an invalid label {label!r}"
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                return f"{host} has an invalid punycode label {label!r}"
    if not _TLD_RE.fullmatch(labels[-1]):
        return f"{host} has an invalid top-level label {labels[-1]!r}"
    if kind in (EntryKind.DOMAIN, EntryKind.HOST) and _suffix_list().is_public(host):
        return f"{host} is a public suffix; blocking it would block every site under it"
    return ""


def parent_names(host: str) -> list[str]:
    """``a.b.example.test`` -> its name and every name above it, nearest first."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@functools.cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()
