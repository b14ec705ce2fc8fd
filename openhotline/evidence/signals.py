"""Events the evidence app sends, so that it need not know who reacts to them.

- ``media_stored(link)``: a media item was linked to a reported URL (a new
  ``UrlMedia`` row ``link``: a crawl stored it, or a forward brought it to
  the receiving hotline's URL). Sent by ``evidence.actions.do_link_media``
  inside the transaction that created the row, right after it, so what the
  receivers write commits or rolls back with the link. Receivers:

  - assessment (``receivers._on_media_stored``): rescore the URL (the
    priority counts its media); the ids are noted and one task is sent per
    transaction, after it commits.
  - matching (``receivers._on_media_stored``): an item hashed already (found
    before, perhaps by another hotline) is matched again after the commit,
    so this URL's hotline gets its pre-classification too. An item still
    waiting for its hashes is matched on ``media_hashed``.
  - network (``receivers._on_media_stored``): link the URL both ways to
    other hotlines' URLs showing the same item (deconfliction by content).
  - takedown (``receivers._on_media_stored``): an open case whose illegal
    media turn up on this URL notes that the material moved.

  The network and takedown receivers never raise: the crawl that stored the
  media is not to fail over their bookkeeping.

- ``media_hashed(media_id)``: hashing of a media item finished (hashes
  saved, or found undecodable). Sent by ``evidence.tasks.hash_media_item``
  after its update commits. Receivers:

  - matching (``receivers._on_media_hashed``): queue ``match_media_item``
    on the media queue, which compares the item with the hash sets.
"""

from __future__ import annotations

from django.dispatch import Signal

media_stored = Signal()
media_hashed = Signal()
