"""One verification of the whole chain against the configured checkpoints, as a result.

The same walk as ``openhotline audit verify`` (``log.verify_chain``), for the
auditor's page: a result to show and to record, not an exit status.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from openhotline.audit.checkpoints import Checkpoint, CheckpointError, read_checkpoints
from openhotline.audit.log import ChainProblem, verify_chain


@dataclass(frozen=True)
class Verification:
    checked: int
    checkpoints: int
    problem: str  # empty when the chain is intact

    @property
    def intact(self) -> bool:
        return not self.problem


def verify_now() -> Verification:
    """Walk the chain and the checkpoint file of ``OPENHOTLINE_AUDIT_CHECKPOINT_FILE``, if any."""
    checkpoints: list[Checkpoint] = []
    name = settings.OPENHOTLINE_AUDIT_CHECKPOINT_FILE
    if name and Path(name).exists():
        try:
            checkpoints = list(read_checkpoints(Path(name)))
        except (OSError, CheckpointError) as exc:
            return Verification(0, 0, f"checkpoints {name}: {exc}")
    checked = 0
    for step in verify_chain(checkpoints=checkpoints):
        if isinstance(step, ChainProblem):
            return Verification(checked, len(checkpoints), f"event #{step.seq}: {step.reason}")
        checked = step
    return Verification(checked, len(checkpoints), "")
