"""Hash sets (banks) of known material, their entries, matches, and import reports.

A ``HashSet`` belongs to one hotline (``owner``) or to the whole installation
(``owner`` empty, shared with the ``audience`` it names). Its entries carry
exact hashes (MD5, SHA-1, SHA-256, in indexed columns) and perceptual ones
(PDQ, vPDQ frames), which live in the installation's PDQ index as well
(``matching.index``) under the entry's primary key.

A ``Match`` says that a media item was found in a set: which entry, by which
hash, at which integer distance. Who may see a set, and therefore its matches,
is decided in ``matching.access``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code

DEFAULT_PDQ_THRESHOLD = 31
MAX_PDQ_THRESHOLD = 128
# Perceptual hashes below this quality say little about the picture: never used to match.
MIN_PDQ_QUALITY = 50


class Trust(models.TextChoices):
    TRUSTED = "trusted", _("Trusted: matches are pre-classified")
    INDICATIVE = "indicative", _("Indicative: matches are shown, analysts classify")


class Audience(models.TextChoices):
    """Who sees an installation-wide set (a hotline's own sets are its alone)."""

    NETWORK = "network", _("Hotlines, police and INTERPOL")
    EVERYONE = "everyone", _("Also partners and other API users")


class SetVerdict(models.TextChoices):
    """What a match with an entry means; ``none`` leaves the item to an analyst."""

    BASELINE = "baseline", _("Baseline")
    NATIONAL = "national", _("Nationally illegal")
    NATIONAL_VIRTUAL = "national_virtual", _("Nationally illegal, virtual")
    NOT_ILLEGAL = "not_illegal", _("Not illegal")
    NONE = "none", _("No verdict: an analyst decides")


# In a set's category map: "use the set's default verdict".
DEFAULT = "default"


class CategoryProfile(models.TextChoices):
    """Project VIC profile: what the numbers in ``Category`` mean (FORMATS.md)."""

    DEFAULT = "Default", _("Default")
    US = "US", _("US")
    UK = "UK", _("UK")
    CUSTOM = "CUSTOM", _("Custom")


class HashKind(models.TextChoices):
    MD5 = "md5", "MD5"
    SHA1 = "sha1", "SHA-1"
    SHA256 = "sha256", "SHA-256"
    PDQ = "pdq", "PDQ"
    VPDQ = "vpdq", "vPDQ"


EXACT_KINDS = (HashKind.SHA256, HashKind.SHA1, HashKind.MD5)


def new_set_code() -> str:
    return random_code(8, group=4)


def new_import_code() -> str:
    return random_code(10, group=5)


class HashSet(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_set_code)
    name = models.CharField(max_length=200)
    # Empty: an installation-wide set, shared with its audience.
    owner = models.ForeignKey(
        "accounts.Organisation",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="hash_sets",
    )
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.NETWORK)
    source = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    trust = models.CharField(max_length=20, choices=Trust.choices, default=Trust.INDICATIVE)
    default_verdict = models.CharField(
        max_length=20, choices=SetVerdict.choices, default=SetVerdict.NONE
    )
    category_profile = models.CharField(
        max_length=10, choices=CategoryProfile.choices, default=CategoryProfile.US
    )
    # VICS category number (as text) -> a SetVerdict value or "default".
    category_verdicts = models.JSONField(default=dict, blank=True)
    pdq_threshold = models.PositiveSmallIntegerField(
        default=DEFAULT_PDQ_THRESHOLD,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_PDQ_THRESHOLD)],
    )
    # Policy: a trusted match still waits for an analyst ("needs a second opinion").
    review_required = models.BooleanField(default=False)
    # The set this installation's own confirmed classifications feed (one per hotline).
    is_own = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=Q(owner__isnull=False),
                name="set_name_per_owner",
                violation_error_message="this hotline already has a set of that name",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(owner__isnull=True),
                name="shared_set_name",
                violation_error_message="a shared set of that name already exists",
            ),
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_own=True), name="one_own_set_per_hotline"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_shared(self) -> bool:
        return self.owner_id is None

    def is_trusted(self) -> bool:
        return self.trust == Trust.TRUSTED

    def verdict_for(self, entry: HashEntry) -> str:
        """The SetVerdict a match with ``entry`` stands for.

        An entry's own verdict (our own classifications carry one) wins; else its
        VICS category through this set's category map; an uncategorised entry, or a
        category mapped to "default", takes the set's default verdict. A category
        the map does not know gives "none": nobody guesses what it means.
        """
        if entry.verdict:
            return entry.verdict
        if entry.category is None:
            return self.default_verdict
        mapped = self.category_verdicts.get(str(entry.category), SetVerdict.NONE)
        return self.default_verdict if mapped == DEFAULT else mapped


class HashEntry(models.Model):
    # Indexed by the (hash_set, key) constraint, whose index starts with it.
    hash_set = models.ForeignKey(HashSet, models.CASCADE, related_name="entries", db_index=False)
    # The strongest hash with its kind ("sha256:…"): one entry per content in a set.
    key = models.CharField(max_length=80)
    md5 = models.CharField(max_length=32, blank=True)
    sha1 = models.CharField(max_length=40, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    pdq = models.CharField(max_length=64, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    # Per frame: [pdq_hex, quality] (vPDQ).
    vpdq = models.JSONField(default=list, blank=True)
    category = models.IntegerField(null=True, blank=True)
    # Overrides the category map; set on the entries of our own sets.
    verdict = models.CharField(max_length=20, choices=SetVerdict.choices, blank=True)
    # VICS fields (MediaID, Series, MediaFiles…), an own entry's classification details.
    metadata = models.JSONField(default=dict, blank=True)
    source_media = models.ForeignKey(
        "evidence.MediaItem", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Indexed with the id (see Meta), so an import's entries are read in order.
    import_report = models.ForeignKey(
        "matching.ImportReport",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hash_set", "key"], name="one_entry_per_key")
        ]
        indexes: ClassVar = [
            # Plain indexes (db_index would add a LIKE index on PostgreSQL, for nothing).
            models.Index(fields=["md5"], name="entry_md5"),
            models.Index(fields=["sha1"], name="entry_sha1"),
            models.Index(fields=["sha256"], name="entry_sha256"),
            models.Index(fields=["import_report", "id"], name="entry_import"),
        ]

    def __str__(self) -> str:
        return self.key

    def usable_pdq(self) -> str:
        """The PDQ hash if it may be matched (quality unknown counts as usable)."""
        if self.pdq and (self.pdq_quality is None or self.pdq_quality >= MIN_PDQ_QUALITY):
            return self.pdq
        return ""

    def usable_frames(self) -> list[str]:
        """vPDQ frame hashes that may be matched, each once."""
        return list(
            dict.fromkeys(
                frame[0]
                for frame in self.vpdq
                if len(frame) >= 2 and (frame[1] is None or frame[1] >= MIN_PDQ_QUALITY)
            )
        )


def entry_key(
    *, md5: str = "", sha1: str = "", sha256: str = "", pdq: str = "", vpdq_digest: str = ""
) -> str:
    """The dedup key of an entry: its strongest hash, with the kind."""
    for kind, value in (
        ("sha256", sha256),
        ("sha1", sha1),
        ("md5", md5),
        ("pdq", pdq),
        ("vpdq", vpdq_digest),
    ):
        if value:
            return f"{kind}:{value}"
    raise ValueError("an entry needs at least one hash")


class Match(models.Model):
    """A media item found in a hash set."""

    media_item = models.ForeignKey(
        "evidence.MediaItem", models.CASCADE, related_name="hash_matches"
    )
    hash_set = models.ForeignKey(HashSet, models.CASCADE, related_name="matches")
    entry = models.ForeignKey(HashEntry, models.CASCADE, related_name="matches")
    kind = models.CharField(max_length=10, choices=HashKind.choices)
    # Hamming distance for PDQ (0 for exact hashes); for vPDQ the median distance
    # of the matching frames, with the overlap percentages in ``detail``.
    distance = models.PositiveSmallIntegerField()
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["media_item", "entry"], name="one_match_per_entry")
        ]

    def __str__(self) -> str:
        return f"{self.media_item_id} ~ {self.entry_id} ({self.kind}, {self.distance})"


class MatchedItem(models.Model):
    """When an item was last matched against the hash sets.

    The matching sweep (``tasks.sweep``) queues again the hashed items without
    one, or with one older than the item's newest reported link: their message
    was lost (a broker restarted without persistence).
    """

    media_item = models.OneToOneField(
        "evidence.MediaItem", models.CASCADE, primary_key=True, related_name="+"
    )
    matched_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.media_item_id} matched {self.matched_at:%Y-%m-%d %H:%M}"


class ImportState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed: nothing was imported")
    DRY_RUN = "dry_run", _("Dry run: nothing was imported")


class ImportReport(models.Model):
    """One import of a file into a set: counts, and the lines refused, with reasons."""

    code = models.CharField(max_length=20, unique=True, default=new_import_code)
    hash_set = models.ForeignKey(HashSet, models.CASCADE, related_name="imports")
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=10)
    state = models.CharField(
        max_length=10, choices=ImportState.choices, default=ImportState.RUNNING
    )
    records = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.code} ({self.state})"


class ImportRejection(models.Model):
    report = models.ForeignKey(ImportReport, models.CASCADE, related_name="rejections")
    # Line of a CSV or list file; the record's position (1-based) in a VICS file.
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering: ClassVar = ["line", "pk"]

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"


class IndexChange(models.Model):
    """One entry added to or removed from the hash sets, numbered in commit order.

    The PDQ index of every machine follows this log (``matching.changelog``):
    ``serial`` only grows, and a change with a higher serial is never visible
    before one with a lower serial, so "everything after my serial" is all a
    machine has not seen yet.
    """

    ADDED = "a"
    REMOVED = "r"

    serial = models.BigAutoField(primary_key=True)
    # No foreign key: a removed entry is gone, and its change stays.
    entry_id = models.BigIntegerField()
    op = models.CharField(max_length=1, choices=[(ADDED, "added"), (REMOVED, "removed")])
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.serial}: {self.op} {self.entry_id}"


class IndexReplica(models.Model):
    """A machine's PDQ index and the last change it has applied (``/readyz`` shows lag)."""

    # settings.OPENHOTLINE_NODE_NAME: one row per index directory in the cluster.
    node = models.CharField(max_length=255, unique=True)
    serial = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.node} @ {self.serial}"
