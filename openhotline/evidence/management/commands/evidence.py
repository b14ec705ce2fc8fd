from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.evidence.keys import ENV_JSON, keyring_path, load_keyring, write_keyring
from openhotline.evidence.models import Blob
from openhotline.evidence.store import get_store, reset_store
from openhotline.lib.blobstore import BlobStore


class Command(BaseCommand):
    help = (
        "Manage the evidence store: `evidence rotate-key` re-encrypts every blob under a new "
        "key (interrupt and run `evidence rotate-key --resume` to continue); "
        "`evidence retire-key ID` drops an old key once nothing uses it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rotate = sub.add_parser("rotate-key", help="add a new key and re-encrypt the store")
        rotate.add_argument("--resume", action="store_true", help="continue an interrupted run")
        retire = sub.add_parser("retire-key", help="remove a key no blob uses any more")
        retire.add_argument("key_id")

    def handle(self, *args: Any, **options: Any) -> None:
        import os

        if os.environ.get(ENV_JSON):
            raise CommandError(
                f"{ENV_JSON} is set: rotate the key ring where it is kept, or use "
                f"{ENV_JSON}_FILE so openhotline can update it"
            )
        if options["subcommand"] == "rotate-key":
            self.rotate(resume=options["resume"])
        else:
            self.retire(options["key_id"])

    def rotate(self, *, resume: bool) -> None:
        ring = load_keyring()
        if not resume:
            number = 1 + max(
                (int(k[1:]) for k in ring.key_ids if k.startswith("k") and k[1:].isdigit()),
                default=0,
            )
            ring = ring.with_key(f"k{number}", secrets.token_bytes(32))
            # The new key is saved before any blob uses it, so an interruption
            # never leaves a blob that no saved key can open.
            write_keyring(ring, keyring_path())
            reset_store()
        store = get_store()
        self.stdout.write(f"re-encrypting the evidence store under key {ring.current}")

        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                self.stdout.write(f"  {done}/{total}")

        result = store.rotate(ring.current, progress=progress)
        self._update_rows(store)
        self.stdout.write(
            f"rotated {result.rotated}, already under {ring.current}: {result.already_current}"
        )
        if result.failed:
            for name, reason in result.failed.items():
                self.stderr.write(f"  failed {name}: {reason}")
            raise CommandError(f"{len(result.failed)} blob(s) could not be re-encrypted")

    def _update_rows(self, store: BlobStore) -> None:
        for blob in Blob.objects.exclude(key_id=store.keys.current).iterator():
            if store.exists(blob.name):
                blob.key_id = store.key_id_of(blob.name)
                blob.save(update_fields=["key_id"])

    def retire(self, key_id: str) -> None:
        ring = load_keyring()
        store = get_store()
        in_use = [name for name in store.storage.names() if store.key_id_of(name) == key_id]
        if in_use:
            raise CommandError(
                f"{len(in_use)} blob(s) still use key {key_id}; run `evidence rotate-key --resume`"
            )
        try:
            write_keyring(ring.without_key(key_id), keyring_path())
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        reset_store()
        self.stdout.write(f"key {key_id} retired")
