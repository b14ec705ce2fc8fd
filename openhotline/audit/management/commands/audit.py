from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.audit.checkpoints import Checkpoint, CheckpointError, read_checkpoints
from openhotline.audit.checkpoints import write_checkpoint as write_one
from openhotline.audit.keys import checkpoint_key
from openhotline.audit.log import ChainProblem, verify_chain


class Command(BaseCommand):
    help = (
        "Work with the audit log: `audit verify [--checkpoints FILE]` checks the keyed chain "
        "and the signed checkpoints; `audit checkpoint` writes a checkpoint now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="check every link of the chain and the checkpoints")
        verify.add_argument(
            "--checkpoints",
            metavar="FILE",
            help="a checkpoint file (or syslog export) to check the chain against; "
            "default: OPENHOTLINE_AUDIT_CHECKPOINT_FILE when it is set",
        )
        sub.add_parser("checkpoint", help="write a signed checkpoint to the configured sinks now")
        sub.add_parser("public-key", help="print the checkpoint key's id and Ed25519 public key")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "checkpoint":
            self.checkpoint()
        elif options["subcommand"] == "public-key":
            key = checkpoint_key()
            self.stdout.write(f"{key.key_id} ed25519 {key.public_bytes().hex()}")
        else:
            self.verify(options["checkpoints"])

    def checkpoint(self) -> None:
        try:
            checkpoint, sinks = write_one()
        except OSError as exc:
            raise CommandError(f"cannot write the checkpoint: {exc}") from None
        if not sinks:
            raise CommandError(
                "no checkpoint sink is set: set OPENHOTLINE_AUDIT_CHECKPOINT_FILE "
                "or OPENHOTLINE_AUDIT_CHECKPOINT_SYSLOG"
            )
        self.stdout.write(
            f"checkpoint: {checkpoint.count} events, head {checkpoint.head[:16]}…, "
            f"written to {', '.join(sinks)}"
        )

    def verify(self, file_name: str | None) -> None:
        path = Path(file_name or settings.OPENHOTLINE_AUDIT_CHECKPOINT_FILE or "")
        checkpoints: list[Checkpoint] = []
        # The configured file before its first checkpoint is no file yet; a file
        # named on the command line must exist.
        if file_name or (settings.OPENHOTLINE_AUDIT_CHECKPOINT_FILE and path.exists()):
            try:
                checkpoints = list(read_checkpoints(path))
            except OSError as exc:
                raise CommandError(f"cannot read checkpoints {path}: {exc.strerror}") from None
            except CheckpointError as exc:
                self.stderr.write(f"audit checkpoints {path} broken: {exc}")
                sys.exit(1)
        checked = 0
        for step in verify_chain(checkpoints=checkpoints):
            if isinstance(step, ChainProblem):
                self.stderr.write(f"audit log broken at event #{step.seq}: {step.reason}")
                sys.exit(1)
            checked = step
        against = f", {len(checkpoints)} checkpoints matched" if checkpoints else ""
        self.stdout.write(f"audit log intact: {checked} events verified{against}")
