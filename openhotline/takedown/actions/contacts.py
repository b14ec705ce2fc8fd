"""Abuse contacts: found by the hosting trace, approved, edited and merged by admins."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.crawler.hosting_facts import HostingFacts
from openhotline.lib.onerow import find_or_create
from openhotline.takedown.models import AbuseContact, ContactKind, ContactSource, TakedownCase

EDITABLE_FIELDS = ("name", "email", "kind", "language", "country", "note", "escalate_to")


class ContactError(ValueError):
    """A contact change that is not allowed, with the reason."""


def _email(value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def find_contact(hotline: Organisation, *, email: str = "", name: str = "") -> AbuseContact | None:
    """The hotline's contact for this address (or, without one, this name), merges followed."""
    query = AbuseContact.objects.filter(hotline=hotline)
    found = None
    if email:
        found = query.filter(email__iexact=email).order_by("pk").first()
    elif name:
        found = query.filter(email="", name__iexact=name).order_by("pk").first()
    return found.resolved() if found is not None else None


def _get_or_create(
    hotline: Organisation, *, name: str, email: str, kind: str, source: str, **extra: Any
) -> AbuseContact:
    """The contact for this address (or name), created when new.

    Traces of two URLs of one hoster finish at once: the constraints
    ``one_contact_per_address``/``one_contact_per_name`` let one insert win
    and the other finds it.
    """

    def create() -> AbuseContact:
        contact = AbuseContact.objects.create(
            hotline=hotline,
            name=(name or email)[:255],
            email=email,
            kind=kind,
            source=source,
            **extra,
        )
        record(
            "takedown.contact_found",
            organisation=hotline,
            obj=contact,
            detail={"name": contact.name, "email": email, "kind": kind, "source": source},
        )
        return contact

    contact, _ = find_or_create(lambda: find_contact(hotline, email=email, name=name), create)
    return contact


def contact_for_facts(hotline: Organisation, facts: HostingFacts) -> AbuseContact | None:
    """The contact a notice for this trace goes to (created unapproved when new).

    1. Behind a CDN: the CDN's abuse address (from its ranges file), else the
       network's.
    2. A domain rule may name the hoster: its text, when it is an address.
    3. Otherwise the abuse address RDAP gave for the network holder, or the
       holder's name alone (an admin must then add the address).
    """
    if facts.notice_via == "cdn" or facts.cdn:
        email = _email(facts.cdn_abuse) or _email(facts.hoster_abuse)
        source = ContactSource.CDN_LIST if _email(facts.cdn_abuse) else ContactSource.RDAP
        name, kind = facts.cdn or facts.hoster, ContactKind.CDN
    elif facts.notice_via == "domain rule":
        email = _email(facts.notice_to)
        name, kind, source = facts.notice_to, ContactKind.HOSTER, ContactSource.DOMAIN_RULE
    else:
        email = _email(facts.hoster_abuse) or _email(facts.notice_to)
        name, kind, source = facts.hoster, ContactKind.HOSTER, ContactSource.RDAP
    if not email and not name:
        return None
    return _get_or_create(
        hotline,
        name=name,
        email=email,
        kind=kind,
        source=source,
        asn=facts.asn,
        network=facts.network,
        country=facts.country,
    )


def registrar_contact(hotline: Organisation, name: str, email: str) -> AbuseContact | None:
    """The registrar's contact for escalations (created unapproved when new)."""
    email = _email(email)
    if not email and not name:
        return None
    return _get_or_create(
        hotline, name=name, email=email, kind=ContactKind.REGISTRAR, source=ContactSource.RDAP
    )


def do_approve_contact(contact: AbuseContact, *, actor: User) -> None:
    if contact.merged_into_id is not None:
        raise ContactError(gettext("this contact was merged into another; approve that one"))
    if not contact.email:
        raise ContactError(gettext("add an e-mail address before approving"))
    with transaction.atomic():
        contact.approved_by = actor
        contact.approved_at = timezone.now()
        contact.save(update_fields=["approved_by", "approved_at", "updated_at"])
        record(
            "takedown.contact_approved",
            actor=actor,
            organisation=contact.hotline,
            obj=contact,
            detail={"email": contact.email},
        )


def do_update_contact(contact: AbuseContact, values: dict[str, Any], *, actor: User) -> None:
    """Edit a contact; a changed address needs approving again."""
    escalate_to = values.get("escalate_to")
    if escalate_to is not None and (
        escalate_to.hotline_id != contact.hotline_id or escalate_to.pk == contact.pk
    ):
        raise ContactError(gettext("escalations go to another contact of the same hotline"))
    with transaction.atomic():
        changed = {}
        for name in EDITABLE_FIELDS:
            if name in values and getattr(contact, name) != values[name]:
                changed[name] = str(values[name])
                setattr(contact, name, values[name])
        if "email" in changed:
            contact.email = contact.email.strip().lower()
            contact.approved_at = None
            contact.approved_by = None
        try:
            with transaction.atomic():
                contact.save()
        except IntegrityError:
            raise ContactError(
                gettext(
                    "another contact of this hotline has this address (or name): merge them instead"
                )
            ) from None
        record(
            "takedown.contact_updated",
            actor=actor,
            organisation=contact.hotline,
            obj=contact,
            detail={"changed": changed},
        )


def do_merge_contacts(duplicate: AbuseContact, into: AbuseContact, *, actor: User) -> None:
    """Fold ``duplicate`` into ``into``: its cases move, later traces resolve to ``into``."""
    target = into.resolved()
    if duplicate.hotline_id != target.hotline_id:
        raise ContactError(gettext("contacts of different hotlines cannot be merged"))
    if duplicate.pk == target.pk:
        raise ContactError(gettext("a contact cannot be merged into itself"))
    with transaction.atomic():
        moved = TakedownCase.objects.filter(contact=duplicate).update(contact=target)
        AbuseContact.objects.filter(merged_into=duplicate).update(merged_into=target)
        AbuseContact.objects.filter(escalate_to=duplicate).update(escalate_to=target)
        duplicate.merged_into = target
        duplicate.save(update_fields=["merged_into", "updated_at"])
        record(
            "takedown.contact_merged",
            actor=actor,
            organisation=target.hotline,
            obj=duplicate,
            detail={"into": target.code, "cases_moved": moved},
        )
