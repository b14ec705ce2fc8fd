"""The periodic schedule, kept in one place in settings.py, names only real tasks."""

from __future__ import annotations

from django.conf import settings

from openhotline.celery import app


def test_every_periodic_entry_is_a_registered_task_with_a_positive_interval() -> None:
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert len(schedule) >= 13
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, name
        assert float(entry["schedule"]) > 0, name
    # Each name starts with the app whose sweep it is.
    apps = {name.split("-", 1)[0] for name in schedule}
    assert apps == {
        "intake",
        "blocking",
        "assessment",
        "crawler",
        "evidence",
        "federation",
        "matching",
        "network",
        "takedown",
        "stats",
        "audit",
    }
