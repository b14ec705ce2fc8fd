"""Labels in English, whatever language the request is in.

Choice labels are translated for the staff pages (``gettext_lazy``), but some
text is stored (URL timelines, descriptions of forwarded reports) or sent to
another installation (federation messages). Those stay English, the
installation's working language, so one row never mixes languages and a
peer gets the same words whatever its sender's browser said.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise


def in_english(label: str | Promise) -> str:
    with translation.override("en"):
        return str(label)
