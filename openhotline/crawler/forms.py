"""The domain rule form: a domain (or an address) and what to do about it."""

from __future__ import annotations

from typing import Any, ClassVar

import idna
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from openhotline.accounts.models import Organisation
from openhotline.crawler.actions import RULE_FIELDS
from openhotline.crawler.dnstrace import is_ip
from openhotline.crawler.models import DomainRule
from openhotline.lib.crawlconfig import proxy_url

# A rule may send the crawler further than the defaults, within these bounds:
# each followed page costs fetches of its own media within the crawl's byte budget.
MAX_FOLLOW_DEPTH = 5
MAX_FOLLOW_PAGES = 500


def canonical_domain(raw: str) -> str:
    """The rule's key: "https://WWW.Example.com/x" -> "www.example.com", IDNs in punycode."""
    text = raw.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split("?", 1)[0].strip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if is_ip(text):
        return text
    if ":" in text:
        text = text.rsplit(":", 1)[0]
    try:
        name = idna.encode(text, uts46=True).decode()
    except idna.IDNAError as exc:
        raise forms.ValidationError(f"Not a domain name: {exc}") from None
    if "." not in name:
        raise forms.ValidationError("Give a full domain name, such as example.com.")
    return name


class DomainRuleForm(forms.ModelForm):
    class Meta:
        model = DomainRule
        fields: ClassVar = list(RULE_FIELDS)
        help_texts: ClassVar = {
            "domain": "Covers its subdomains too, unless they have a rule of their own.",
            "force_hoster": "Send notices here (name or e-mail) instead of the traced hoster.",
            "force_registrar": "Treat this as the registrar instead of the RDAP answer.",
            "proxy": "Crawl through this proxy, e.g. socks5h://127.0.0.1:9050.",
            "classify_as": "Classify this domain's URLs directly.",
            "do_not_follow": "Fetch only the reported page, never the site's other pages.",
            "follow_depth": (
                f"Follow the site's links this many links deep (default"
                f" {settings.OPENHOTLINE_CRAWL_FOLLOW_DEPTH}, at most {MAX_FOLLOW_DEPTH})."
            ),
            "follow_pages": (
                f"Follow at most this many of the site's pages per crawl (default"
                f" {settings.OPENHOTLINE_CRAWL_FOLLOW_PAGES}, at most {MAX_FOLLOW_PAGES})."
            ),
        }

    def __init__(self, *args: Any, hotline: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hotline = hotline

    def clean_domain(self) -> str:
        domain = canonical_domain(self.cleaned_data["domain"])
        clash = DomainRule.objects.filter(hotline=self.hotline, domain=domain)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("There is a rule for this domain already.")
        return domain

    def clean_proxy(self) -> str:
        try:
            return proxy_url("proxy", self.cleaned_data["proxy"]) or ""
        except ImproperlyConfigured as exc:
            raise forms.ValidationError(str(exc).removeprefix("proxy: ")) from None

    def clean_follow_depth(self) -> int | None:
        return _at_most(self.cleaned_data["follow_depth"], MAX_FOLLOW_DEPTH)

    def clean_follow_pages(self) -> int | None:
        return _at_most(self.cleaned_data["follow_pages"], MAX_FOLLOW_PAGES)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("notify_site_owner") and not data.get("site_owner_contact"):
            self.add_error("site_owner_contact", "Say how to reach the site owner.")
        following = data.get("follow_depth") is not None or data.get("follow_pages") is not None
        if data.get("do_not_follow") and following:
            self.add_error("do_not_follow", "Either stop following links or set how far to go.")
        effects = ("do_not_crawl", "force_hoster", "force_registrar", "notify_site_owner")
        if not following and not any(
            data.get(name) for name in (*effects, "proxy", "do_not_follow", "classify_as")
        ):
            raise forms.ValidationError("A rule must do something.")
        return data


def _at_most(value: int | None, limit: int) -> int | None:
    if value is not None and value > limit:
        raise forms.ValidationError(f"At most {limit}.")
    return value
