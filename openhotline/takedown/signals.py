"""What takedown tells other apps, as named events.

- ``url_still_online`` (sender ``TakedownCase``; ``case``, ``address``): a
  re-check found the URL of a checked case still online, served from
  ``address`` (None when unknown). Sent by ``tasks.recheck_case``.
  Receivers: ``network.retrace`` (a route still waiting for a better trace,
  behind a CDN or with hosting unknown, traces again and routes anew when
  the trace says more).

- ``case_removed`` (sender ``TakedownCase``; ``case``): re-checks
  confirmed the material gone and the case is being marked removed
  (``case.removed_at`` is set). Sent by ``actions.removal._mark_removed``
  inside ``do_record_check``'s transaction, before the removal's audit
  entry and before the case is saved: a receiver may fill the case's
  fields about its own app's data on the object it is given, and the save
  keeps them; an error in a receiver rolls the check back. Receivers:
  ``network.receivers._on_case_removed`` (``seconds_from_referral``, the
  time from the URL's first police referral to the removal);
  ``federation.receivers._on_case_removed`` (after the commit, the removal
  pushed back to the peer that forwarded the URL).

Takedown sends and does not import its receivers: network sits above
takedown (routing opens takedown cases), so the call goes up by event.
"""

from __future__ import annotations

from django.dispatch import Signal

url_still_online = Signal()
case_removed = Signal()
