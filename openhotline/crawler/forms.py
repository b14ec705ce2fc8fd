"""The domain rule form: a domain (or an address) and what to do about it."""

from __future__ import annotations

from typing import Any, ClassVar

import idna
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
        raise forms.ValidationError(_("Not a domain name: %(reason)s") % {"reason": exc}) from None
    if "." not in name:
        raise forms.ValidationError(_("Give a full domain name, such as example.com."))
    return name


def _with_limits(text: str | Promise, default: int, limit: int) -> str:
    """A help text naming the default and the limit, translated when it is shown (lazy)."""
    return lazy(lambda: str(text) % {"default": default, "limit": limit}, str)()


class DomainRuleForm(forms.ModelForm):
    class Meta:
        model = DomainRule
        fields: ClassVar = list(RULE_FIELDS)
        labels: ClassVar = {
            "domain": gettext_lazy("Domain"),
            "do_not_crawl": gettext_lazy("Do not crawl"),
            "force_hoster": gettext_lazy("Force hoster"),
            "force_registrar": gettext_lazy("Force registrar"),
            "notify_site_owner": gettext_lazy("Notify site owner"),
            "site_owner_contact": gettext_lazy("Site owner contact"),
            "proxy": gettext_lazy("Proxy"),
            "do_not_follow": gettext_lazy("Do not follow"),
            "follow_depth": gettext_lazy("Follow depth"),
            "follow_pages": gettext_lazy("Follow pages"),
            "classify_as": gettext_lazy("Classify as"),
            "note": gettext_lazy("Note"),
        }
        help_texts: ClassVar = {
            "domain": gettext_lazy(
                "Covers its subdomains too, unless they have a rule of their own."
            ),
            "force_hoster": gettext_lazy(
                "Send notices here (name or e-mail) instead of the traced hoster."
            ),
            "force_registrar": gettext_lazy(
                "Treat this as the registrar instead of the RDAP answer."
            ),
            "proxy": gettext_lazy("Crawl through this proxy, e.g. socks5h://127.0.0.1:9050."),
            "classify_as": gettext_lazy("Classify this domain's URLs directly."),
            "do_not_follow": gettext_lazy(
                "Fetch only the reported page, never the site's other pages."
            ),
            "follow_depth": _with_limits(
                gettext_lazy(
                    "Follow the site's links this many links deep (default %(default)s, "
                    "at most %(limit)s)."
                ),
                settings.OPENHOTLINE_CRAWL_FOLLOW_DEPTH,
                MAX_FOLLOW_DEPTH,
            ),
            "follow_pages": _with_limits(
                gettext_lazy(
                    "Follow at most this many of the site's pages per crawl (default "
                    "%(default)s, at most %(limit)s)."
                ),
                settings.OPENHOTLINE_CRAWL_FOLLOW_PAGES,
                MAX_FOLLOW_PAGES,
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
            raise forms.ValidationError(_("There is a rule for this domain already."))
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
            self.add_error("site_owner_contact", _("Say how to reach the site owner."))
        following = data.get("follow_depth") is not None or data.get("follow_pages") is not None
        if data.get("do_not_follow") and following:
            self.add_error("do_not_follow", _("Either stop following links or set how far to go."))
        effects = ("do_not_crawl", "force_hoster", "force_registrar", "notify_site_owner")
        if not following and not any(
            data.get(name) for name in (*effects, "proxy", "do_not_follow", "classify_as")
        ):
            raise forms.ValidationError(_("A rule must do something."))
        return data


def _at_most(value: int | None, limit: int) -> int | None:
    if value is not None and value > limit:
        raise forms.ValidationError(_("At most %(limit)s.") % {"limit": limit})
    return value
