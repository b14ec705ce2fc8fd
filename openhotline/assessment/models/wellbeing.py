"""Wellbeing of the analysts: how much they see, and how long they work without a break.

Hotline staff look at the worst material on the internet. The defaults spare
them every image they can: thumbnails are blurred and greyscale, revealing is
counted, and a daily cap (optional, chosen per person) stops reveals until a
senior analyst lifts it for the day.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BlurStrength(models.TextChoices):
    LIGHT = "light", _("Light")
    NORMAL = "normal", _("Normal")
    STRONG = "strong", _("Strong")


class WellbeingPrefs(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="wellbeing")
    blur = models.CharField(max_length=10, choices=BlurStrength.choices, default="normal")
    # Blurred previews without colour (the default); off shows blurred colour.
    greyscale = models.BooleanField(default=True)
    # Minutes of work after which a break is suggested.
    break_minutes = models.PositiveIntegerField(default=50)
    # At most this many reveals a day; empty means no cap.
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    # Reveal only while the reveal key (or button) is held down: letting go hides it.
    hold_to_reveal = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"wellbeing of {self.user_id}"


class RevealDay(models.Model):
    """How many items one analyst revealed on one day (UTC), and whether a senior lifted the cap."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    day = models.DateField()
    revealed = models.PositiveIntegerField(default=0)
    cap_lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cap_lifted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "day"], name="one_reveal_count_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.revealed}"
