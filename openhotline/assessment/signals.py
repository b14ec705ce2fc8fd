"""Signals other apps listen to, so that assessment need not know them.

- ``url_assessed(reported_url, assessment)``: an analyst finished a reported
  URL; routing (police, forwarding, notices) and blocking react to it.
- ``item_classification_in_force(status)``: a classification took effect
  (after any four-eyes confirmation); matching feeds our own hash set and
  the law-enforcement portal picks up illegal items.

Both are sent after the transaction commits.
"""

from __future__ import annotations

from django.dispatch import Signal

url_assessed = Signal()
item_classification_in_force = Signal()
