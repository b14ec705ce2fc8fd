"""Signals other apps listen to, so that assessment need not know them.

- ``url_assessed(reported_url, assessment)``: a reported URL's verdict took
  effect: the analyst finished it and every classification behind it is in
  force (confirmed by a second person where the four-eyes rule asks). Also
  sent when a shared item made a not-illegal URL illegal. Receivers:
  network (``receivers._on_url_assessed``: routing to the police, INTERPOL,
  a member hotline, or a takedown notice); nothing leaves the hotline before
  it. Then federation (``receivers._on_url_assessed``: the progress of a URL
  a peer forwarded, pushed back to it). Blocking does not listen: its hourly
  ``propose_overdue_urls`` sweep polls for illegal URLs still online after
  the grace time.
- ``url_verdict_changed(reported_url, before, after)``: the verdict in force
  of a finished URL changed because an item it shares with other URLs was
  re-classified (and confirmed). Receivers undo or correct what they did:
  network (withdrawn referral, correction to the police), takedown (closes
  the case when no longer illegal), blocking (proposes a delisting).
- ``item_classification_in_force(status)``: a classification took effect
  (after any four-eyes confirmation); matching feeds our own hash set and
  the law-enforcement portal (network) picks up illegal items.

These three are sent after the transaction commits. One more is a question,
not a notice, asked while classifying, in the caller's transaction:

- ``known_material_asked(hotline_id, media_item_id)``: is this item known
  material at this hotline? The four-eyes rule asks it
  (``actions.four_eyes.is_known_material``); the item is known when any
  receiver answers True, new when none does (or none is connected: the
  stricter answer). Asked each time, so a hash set that became inactive or
  untrusted changes the answer at once. Receivers: matching
  (``receivers._known_by_an_exact_trusted_match``: matched exactly, by MD5,
  SHA-1 or SHA-256, to an active hash set the hotline trusts). Assessment
  asks instead of importing matching: matching sits above it (a hash match
  pre-classifies through ``do_classify_item``).

The evidence app's events (``media_stored``, ``media_hashed``) are in
``evidence/signals.py``.
"""

from __future__ import annotations

from django.dispatch import Signal

url_assessed = Signal()
url_verdict_changed = Signal()
item_classification_in_force = Signal()
known_material_asked = Signal()
