"""The domain rule form: a domain (or an address) and what to do about it."""

from __future__ import annotations

from typing import Any, ClassVar

import idna
from django import forms
from django.core.exceptions import ImproperlyConfigured

from openhotline.accounts.models import Organisation
from openhotline.crawler.actions import RULE_FIELDS
from openhotline.crawler.dnstrace import is_ip
from openhotline.crawler.models import DomainRule
from openhotline.lib.crawlconfig import proxy_url


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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("notify_site_owner") and not data.get("site_owner_contact"):
            self.add_error("site_owner_contact", "Say how to reach the site owner.")
        effects = ("do_not_crawl", "force_hoster", "force_registrar", "notify_site_owner")
        if not any(data.get(name) for name in (*effects, "proxy", "classify_as")):
            raise forms.ValidationError("A rule must do something.")
        return data
