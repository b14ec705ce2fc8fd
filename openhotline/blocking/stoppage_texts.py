"""The stop page's default wording in English, Danish, Dutch, German and French.

Admins replace any of it per language (``StopPageText``). Placeholders:
``{operator}`` (the hotline), ``{contact}`` (where to complain), ``{help_name}``
(the help service; its link is shown under the text).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StopText:
    title: str
    explanation: str
    complaint: str
    help: str
    address_label: str = "Address"


DEFAULT_TEXTS: dict[str, StopText] = {
    "en": StopText(
        title="Access blocked",
        explanation=(
            "Access to this website has been blocked because it has contained images or "
            "videos of the sexual abuse of children. Such material is illegal, and every "
            "time it is viewed the abuse of a real child is repeated."
        ),
        complaint=(
            "The block is operated by {operator} together with your internet provider. If "
            "you believe this website has been blocked by mistake, write to {contact} and "
            "name the address you tried to visit. We check every complaint."
        ),
        help=(
            "Are you worried about your own sexual thoughts or feelings about children? You "
            "are not alone, and help is available, anonymously and confidentially: "
            "{help_name}."
        ),
        address_label="Address",
    ),
    "da": StopText(
        title="Adgang blokeret",
        explanation=(
            "Adgangen til denne hjemmeside er blokeret, fordi den har indeholdt billeder "
            "eller videoer af seksuelle overgreb på børn. Sådant materiale er ulovligt, og "
            "hver gang det bliver set, gentages overgrebet på et rigtigt barn."
        ),
        complaint=(
            "Blokeringen varetages af {operator} i samarbejde med din internetudbyder. Hvis "
            "du mener, at hjemmesiden er blokeret ved en fejl, så skriv til {contact} og "
            "oplys den adresse, du forsøgte at besøge. Vi undersøger alle klager."
        ),
        help=(
            "Er du bekymret for dine egne seksuelle tanker eller følelser om børn? Du er "
            "ikke alene, og du kan få hjælp, anonymt og fortroligt: {help_name}."
        ),
        address_label="Adresse",
    ),
    "nl": StopText(
        title="Toegang geblokkeerd",
        explanation=(
            "De toegang tot deze website is geblokkeerd omdat er afbeeldingen of video's "
            "van seksueel misbruik van kinderen op hebben gestaan. Zulk materiaal is "
            "illegaal, en elke keer dat het bekeken wordt, wordt het misbruik van een echt "
            "kind herhaald."
        ),
        complaint=(
            "De blokkade wordt uitgevoerd door {operator}, samen met uw internetprovider. "
            "Denkt u dat deze website ten onrechte is geblokkeerd? Schrijf dan naar "
            "{contact} en vermeld het adres dat u probeerde te bezoeken. Wij bekijken elke "
            "klacht."
        ),
        help=(
            "Maakt u zich zorgen over uw eigen seksuele gedachten of gevoelens over "
            "kinderen? U staat er niet alleen voor, en er is hulp, anoniem en vertrouwelijk: "
            "{help_name}."
        ),
        address_label="Adres",
    ),
    "de": StopText(
        title="Zugriff gesperrt",
        explanation=(
            "Der Zugriff auf diese Website wurde gesperrt, weil sie Bilder oder Videos vom "
            "sexuellen Missbrauch von Kindern enthalten hat. Solches Material ist illegal, "
            "und jedes Mal, wenn es angesehen wird, wiederholt sich der Missbrauch eines "
            "echten Kindes."
        ),
        complaint=(
            "Die Sperre wird von {operator} gemeinsam mit Ihrem Internetanbieter betrieben. "
            "Wenn Sie glauben, dass diese Website irrtümlich gesperrt wurde, schreiben Sie "
            "an {contact} und nennen Sie die Adresse, die Sie aufrufen wollten. Wir prüfen "
            "jede Beschwerde."
        ),
        help=(
            "Machen Sie sich Sorgen wegen Ihrer eigenen sexuellen Gedanken oder Gefühle "
            "gegenüber Kindern? Sie sind nicht allein, und es gibt Hilfe, anonym und "
            "vertraulich: {help_name}."
        ),
        address_label="Adresse",
    ),
    "fr": StopText(
        title="Accès bloqué",
        explanation=(
            "L'accès à ce site a été bloqué parce qu'il a contenu des images ou des vidéos "
            "d'abus sexuels sur des enfants. Ce contenu est illégal, et chaque fois qu'il "
            "est regardé, l'abus d'un enfant réel se répète."
        ),
        complaint=(
            "Le blocage est assuré par {operator} avec votre fournisseur d'accès à internet. "
            "Si vous pensez que ce site a été bloqué par erreur, écrivez à {contact} en "
            "indiquant l'adresse que vous avez essayé de consulter. Nous examinons chaque "
            "réclamation."
        ),
        help=(
            "Vous êtes inquiet à propos de vos propres pensées ou sentiments sexuels envers "
            "des enfants ? Vous n'êtes pas seul, et une aide existe, anonyme et "
            "confidentielle : {help_name}."
        ),
        address_label="Adresse",
    ),
}

LANGUAGES = tuple(DEFAULT_TEXTS)

# The language a visitor gets when the browser asks for none we have.
COUNTRY_LANGUAGE = {
    "DK": "da",
    "GL": "da",
    "FO": "da",
    "NL": "nl",
    "DE": "de",
    "AT": "de",
    "LI": "de",
    "FR": "fr",
    "MC": "fr",
    "LU": "fr",
    "BE": "nl",
    "CH": "de",
}
