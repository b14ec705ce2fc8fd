"""What takedown tells other apps, as named events.

- ``url_still_online`` (sender ``TakedownCase``; ``case``, ``address``): a
  re-check found the URL of a checked case still online, served from
  ``address`` (None when unknown). Sent by ``tasks.recheck_case``.
  Receivers: ``network.retrace`` (a route still waiting for a better trace,
  behind a CDN or with hosting unknown, traces again and routes anew when
  the trace says more).

Takedown sends and does not import its receivers: network sits above
takedown (routing opens takedown cases), so the call goes up by event.
"""

from __future__ import annotations

from django.dispatch import Signal

url_still_online = Signal()
