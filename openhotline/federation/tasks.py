"""Background work of federation: deliveries, progress back, deconfliction, hash-set pulls.

Every task takes ids (or nothing), reloads what it needs, and may run twice.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from openhotline.federation.actions.deconfliction import ask_about_new_urls
from openhotline.federation.actions.hashsets import pull_all
from openhotline.federation.actions.outbox import DELIVER_TASK, deliver_to_peer, due_peers
from openhotline.federation.actions.progress import report_all_progress
from openhotline.federation.models import SeenNonce


@shared_task(acks_late=True, name=DELIVER_TASK)
def deliver_peer(peer_id: int) -> dict[str, int]:
    """Deliver a peer's due messages in order (one worker per peer at a time)."""
    return deliver_to_peer(peer_id)


@shared_task(name="openhotline.federation.tasks.deliver_due")
def deliver_due() -> int:
    """The beat: start a delivery round for each peer with a message due (retries, lost tasks)."""
    peers = due_peers()
    for peer_id in peers:
        deliver_peer.delay(peer_id)
    return len(peers)


@shared_task(name="openhotline.federation.tasks.report_progress")
def report_progress() -> int:
    """The beat: queue a status for each forwarded-in URL that moved on."""
    return report_all_progress()


@shared_task(name="openhotline.federation.tasks.deconflict_new_urls")
def deconflict_new_urls() -> int:
    """The beat: ask each peer, by keyed hash, about our URLs made since we last asked."""
    return ask_about_new_urls()


@shared_task(name="openhotline.federation.tasks.pull_hash_sets")
def pull_hash_sets() -> int:
    """The beat: pull the changes of the peers' hash sets we subscribe to."""
    return pull_all()


@shared_task(name="openhotline.federation.tasks.purge_nonces")
def purge_nonces() -> int:
    """Forget nonces older than any signature still accepted (twice the age limit, with skew)."""
    keep = 3 * settings.OPENHOTLINE_FEDERATION_MAX_AGE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=keep)
    return SeenNonce.objects.filter(created_at__lt=cutoff).delete()[0]
