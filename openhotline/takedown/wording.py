"""The words of notices: built-in templates in five languages, a hotline's own, and rendering.

A template is Django template text with these variables:
``hotline`` (name, contact_email), ``hotline_country``, ``contact`` (name),
``notice_code``, ``new_lines`` and ``reminder_lines`` (each line has ``url``,
``reference``, ``address``, ``reported_at``, ``first_notice``), and for
escalations ``hoster`` and ``days``. Subjects and the text part are
rendered without HTML escaping; the HTML part with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation
from django_countries.fields import Country

from openhotline.accounts.models import Organisation
from openhotline.takedown.models import NoticeTemplate, TemplateKind

LANGUAGES = ("en", "da", "nl", "de", "fr")
# The language of notices to a contact in each country, when the contact names none.
COUNTRY_LANGUAGE = {
    "DK": "da",
    "NL": "nl",
    "BE": "nl",
    "SR": "nl",
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "LI": "de",
    "FR": "fr",
    "LU": "fr",
    "MC": "fr",
}

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Child sexual abuse material on your network",
        "esc_subject": "Escalation: child sexual abuse material still online",
        "greeting": "Dear",
        "intro": (
            "is the hotline for reports of child sexual abuse material in"
            " {{ hotline_country }}. Our analysts have assessed the content at the addresses"
            " below as child sexual abuse material. According to our records it is hosted on"
            " your network. Please remove it without delay and keep the data that the police"
            " may ask for."
        ),
        "esc_intro": (
            "We notified {{ hoster }} of the addresses below, which show child sexual abuse"
            " material. After {{ days }} days the material is still online. As the registrar of"
            " the domain or the provider upstream of the hoster, please act to have it removed."
        ),
        "new": "New",
        "still": "Still online since our earlier notice",
        "reference": "reference",
        "served": "served from",
        "first": "first notified",
        "warning": (
            "Do not open these addresses unless you must in order to remove the content:"
            " viewing or downloading the material is a crime in most countries."
        ),
        "reply": (
            "Reply to this message when the content is gone. We check the addresses again until"
            " it is."
        ),
        "notice": "Notice",
    },
    "da": {
        "subject": "Materiale med seksuelt misbrug af børn på jeres netværk",
        "esc_subject": "Eskalering: materiale med seksuelt misbrug af børn er stadig online",
        "greeting": "Kære",
        "intro": (
            "er hotline for anmeldelser af materiale med seksuelt misbrug af børn i"
            " {{ hotline_country }}. Vores analytikere har vurderet indholdet på adresserne"
            " nedenfor som materiale med seksuelt misbrug af børn. Ifølge vores oplysninger"
            " hostes det på jeres netværk. Fjern det venligst straks, og gem de data, som"
            " politiet kan bede om."
        ),
        "esc_intro": (
            "Vi har underrettet {{ hoster }} om adresserne nedenfor, som viser materiale med"
            " seksuelt misbrug af børn. Efter {{ days }} dage er materialet stadig online. Som"
            " registrator af domænet eller udbyder for hostingfirmaet beder vi jer sørge for,"
            " at det fjernes."
        ),
        "new": "Nye",
        "still": "Stadig online siden vores tidligere henvendelse",
        "reference": "reference",
        "served": "leveret fra",
        "first": "første gang underrettet",
        "warning": (
            "Åbn ikke adresserne, medmindre det er nødvendigt for at fjerne indholdet: det er"
            " strafbart at se eller hente materialet i de fleste lande."
        ),
        "reply": (
            "Svar på denne mail, når indholdet er fjernet. Vi kontrollerer adresserne igen,"
            " indtil det er sket."
        ),
        "notice": "Henvendelse",
    },
    "nl": {
        "subject": "Materiaal van seksueel kindermisbruik op uw netwerk",
        "esc_subject": "Escalatie: materiaal van seksueel kindermisbruik nog steeds online",
        "greeting": "Geachte",
        "intro": (
            "is het meldpunt voor materiaal van seksueel kindermisbruik in"
            " {{ hotline_country }}. Onze analisten hebben de inhoud op de onderstaande adressen"
            " beoordeeld als materiaal van seksueel kindermisbruik. Volgens onze gegevens wordt"
            " het gehost op uw netwerk. Verwijder het zo snel mogelijk en bewaar de gegevens die"
            " de politie kan opvragen."
        ),
        "esc_intro": (
            "Wij hebben {{ hoster }} gemeld dat de onderstaande adressen materiaal van seksueel"
            " kindermisbruik tonen. Na {{ days }} dagen is het materiaal nog steeds online. Als"
            " registrar van het domein of als upstream-provider van de hoster vragen wij u ervoor"
            " te zorgen dat het wordt verwijderd."
        ),
        "new": "Nieuw",
        "still": "Nog steeds online sinds onze eerdere melding",
        "reference": "referentie",
        "served": "geleverd vanaf",
        "first": "eerst gemeld op",
        "warning": (
            "Open deze adressen alleen als dat nodig is om de inhoud te verwijderen: het bekijken"
            " of downloaden van het materiaal is in de meeste landen strafbaar."
        ),
        "reply": (
            "Beantwoord dit bericht wanneer de inhoud is verwijderd. Wij controleren de adressen"
            " opnieuw tot dat het geval is."
        ),
        "notice": "Melding",
    },
    "de": {
        "subject": "Darstellungen sexuellen Kindesmissbrauchs in Ihrem Netz",
        "esc_subject": "Eskalation: Darstellungen sexuellen Kindesmissbrauchs weiterhin online",
        "greeting": "Sehr geehrte Damen und Herren von",
        "intro": (
            "ist die Beschwerdestelle für Darstellungen sexuellen Kindesmissbrauchs in"
            " {{ hotline_country }}. Unsere Analystinnen und Analysten haben die Inhalte unter"
            " den folgenden Adressen als Darstellungen sexuellen Kindesmissbrauchs eingestuft."
            " Nach unseren Erkenntnissen liegen sie in Ihrem Netz. Bitte entfernen Sie sie"
            " unverzüglich und sichern Sie die Daten, die die Polizei anfordern kann."
        ),
        "esc_intro": (
            "Wir haben {{ hoster }} über die folgenden Adressen mit Darstellungen sexuellen"
            " Kindesmissbrauchs informiert. Nach {{ days }} Tagen sind die Inhalte weiterhin"
            " online. Als Registrar der Domain oder als vorgelagerter Provider des Hosters bitten"
            " wir Sie, für die Entfernung zu sorgen."
        ),
        "new": "Neu",
        "still": "Seit unserer früheren Meldung weiterhin online",
        "reference": "Referenz",
        "served": "ausgeliefert von",
        "first": "erstmals gemeldet am",
        "warning": (
            "Öffnen Sie diese Adressen nur, wenn es zur Entfernung nötig ist: Das Ansehen oder"
            " Herunterladen des Materials ist in den meisten Ländern strafbar."
        ),
        "reply": (
            "Bitte antworten Sie auf diese Nachricht, sobald die Inhalte entfernt sind. Wir"
            " prüfen die Adressen erneut, bis das der Fall ist."
        ),
        "notice": "Meldung",
    },
    "fr": {
        "subject": "Contenus d'abus sexuels sur enfants sur votre réseau",
        "esc_subject": "Escalade : contenus d'abus sexuels sur enfants toujours en ligne",
        "greeting": "Madame, Monsieur,",
        "intro": (
            "est la plateforme de signalement des contenus d'abus sexuels sur enfants pour"
            " {{ hotline_country }}. Nos analystes ont qualifié le contenu des adresses"
            " ci-dessous de contenu d'abus sexuels sur enfants. Selon nos informations, il est"
            " hébergé sur votre réseau. Merci de le retirer sans délai et de conserver les"
            " données que la police pourrait demander."
        ),
        "esc_intro": (
            "Nous avons signalé à {{ hoster }} les adresses ci-dessous, qui présentent des"
            " contenus d'abus sexuels sur enfants. Après {{ days }} jours, ces contenus sont"
            " toujours en ligne. En tant que bureau d'enregistrement du domaine ou fournisseur"
            " en amont de l'hébergeur, merci d'agir pour les faire retirer."
        ),
        "new": "Nouveaux",
        "still": "Toujours en ligne depuis notre précédent signalement",
        "reference": "référence",
        "served": "servi depuis",
        "first": "signalé pour la première fois le",
        "warning": (
            "N'ouvrez ces adresses que si cela est nécessaire pour retirer le contenu : consulter"
            " ou télécharger ce matériel est un délit dans la plupart des pays."
        ),
        "reply": (
            "Répondez à ce message lorsque le contenu aura été retiré. Nous vérifions les"
            " adresses jusqu'à ce qu'il le soit."
        ),
        "notice": "Signalement",
    },
}

_TEXT = """{{ greeting_line }}

{% if escalation %}ESC_INTRO{% else %}{{ hotline.name }} INTRO{% endif %}
{% if new_lines %}
NEW:
{% for line in new_lines %}- {{ line.url }} (REFERENCE {{ line.reference }}{% if line.address %}, \
SERVED {{ line.address }}{% endif %})
{% endfor %}{% endif %}{% if reminder_lines %}
STILL:
{% for line in reminder_lines %}- {{ line.url }} (REFERENCE {{ line.reference }}, \
FIRST {{ line.first_notice|date:"Y-m-d" }})
{% endfor %}{% endif %}
WARNING

REPLY

{{ hotline.name }}{% if hotline.contact_email %} <{{ hotline.contact_email }}>{% endif %}
NOTICE {{ notice_code }}
"""

_HTML = """<p>{{ greeting_line }}</p>
<p>{% if escalation %}ESC_INTRO{% else %}{{ hotline.name }} INTRO{% endif %}</p>
{% if new_lines %}<p><strong>NEW</strong></p><ul>
{% for line in new_lines %}<li><code>{{ line.url }}</code> (REFERENCE {{ line.reference }}\
{% if line.address %}, SERVED {{ line.address }}{% endif %})</li>
{% endfor %}</ul>{% endif %}
{% if reminder_lines %}<p><strong>STILL</strong></p><ul>
{% for line in reminder_lines %}<li><code>{{ line.url }}</code> (REFERENCE {{ line.reference }}, \
FIRST {{ line.first_notice|date:"Y-m-d" }})</li>
{% endfor %}</ul>{% endif %}
<p>WARNING</p>
<p>REPLY</p>
<p>{{ hotline.name }}<br>NOTICE {{ notice_code }}</p>
"""


def _fill(skeleton: str, words: dict[str, str]) -> str:
    out = skeleton
    # ESC_INTRO before INTRO, which it contains.
    for key in ("ESC_INTRO", "INTRO", "NEW", "STILL", "REFERENCE", "SERVED", "FIRST"):
        out = out.replace(key, words[key.lower()])
    out = out.replace("WARNING", words["warning"]).replace("REPLY", words["reply"])
    return out.replace("NOTICE", words["notice"])


@dataclass(frozen=True)
class Wording:
    subject: str
    text: str
    html: str


def default_wording(kind: str, language: str) -> Wording:
    """The built-in template of ``kind`` in ``language`` (English for any other language)."""
    words = _PHRASES.get(language, _PHRASES["en"])
    subject = words["esc_subject"] if kind == TemplateKind.ESCALATION else words["subject"]
    return Wording(
        subject=subject + " ({{ hotline.name }} " + words["notice"] + " {{ notice_code }})",
        text=_fill(_TEXT, words),
        html=_fill(_HTML, words),
    )


def greeting(language: str, contact_name: str) -> str:
    words = _PHRASES.get(language, _PHRASES["en"])
    if language == "fr":
        return words["greeting"]
    return f"{words['greeting']} {contact_name},"


def country_name(code: str, language: str) -> str:
    """The country's name in the notice's language ("Danmark" in a Danish notice).

    The names and their translations are django-countries' own (an
    installed app, so Django loads its catalogues).
    """
    with translation.override(language):
        return str(Country(code).name) if code else ""


def language_for(contact_language: str, country: str) -> str:
    if contact_language in LANGUAGES:
        return contact_language
    return COUNTRY_LANGUAGE.get(country.upper(), "en")


def wording_for(hotline: Organisation, kind: str, language: str) -> Wording:
    """The hotline's own template if it has one, else the built-in one."""
    own = NoticeTemplate.objects.filter(hotline=hotline, kind=kind, language=language).first()
    if own is not None:
        return Wording(subject=own.subject, text=own.text, html=own.html)
    return default_wording(kind, language)


# A bare engine: no loaders, so a template cannot include files.
_ENGINE = Engine()


SAMPLE_CONTEXT: dict[str, Any] = {
    "hotline": {"name": "Hotline", "contact_email": "hotline@example.invalid"},
    "hotline_country": "Denmark",
    "contact": {"name": "Hoster"},
    "greeting_line": "Dear Hoster,",
    "notice_code": "SAMPLE-CODE00",
    "escalation": False,
    "new_lines": [{"url": "http://example.invalid/a", "reference": "R1", "address": "192.0.2.1"}],
    "reminder_lines": [{"url": "http://example.invalid/b", "reference": "R2"}],
    "hoster": "Hoster",
    "days": 7,
}


def check_template(source: str) -> str | None:
    """Why a template source cannot be used, or None: it must compile and render a sample.

    Rendering catches what compiling cannot (an ``{% include %}`` finds no
    file: this engine has no loaders), so that a saved template never fails
    a notice run later.
    """
    try:
        _ENGINE.from_string(source).render(Context(SAMPLE_CONTEXT))
    except TemplateSyntaxError as exc:
        return str(exc)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def render(wording: Wording, context: dict[str, Any]) -> Wording:
    """Render subject and text unescaped, HTML escaped; the subject on one line."""
    plain = Context(context, autoescape=False)
    subject = _ENGINE.from_string(wording.subject).render(plain)
    text = _ENGINE.from_string(wording.text).render(Context(context, autoescape=False))
    html = ""
    if wording.html.strip():
        html = _ENGINE.from_string(wording.html).render(Context(context, autoescape=True))
    return Wording(subject=" ".join(subject.split())[:300], text=text, html=html)
