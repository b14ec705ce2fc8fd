"""The assessment app's models: classification history, the workspace, wellbeing."""

from __future__ import annotations

from openhotline.assessment.models.classification import (
    Classification,
    ClassificationSource,
    ItemStatus,
    ReviewState,
    UrlAssessment,
)
from openhotline.assessment.models.wellbeing import BlurStrength, RevealDay, WellbeingPrefs
from openhotline.assessment.models.workspace import (
    FourEyesRule,
    Material,
    PriorityRule,
    ReviewDraft,
    RuleKind,
    UrlClaim,
    UrlPriority,
    WorkspaceSettings,
)

__all__ = [
    "BlurStrength",
    "Classification",
    "ClassificationSource",
    "FourEyesRule",
    "ItemStatus",
    "Material",
    "PriorityRule",
    "ReviewDraft",
    "ReviewState",
    "RevealDay",
    "RuleKind",
    "UrlAssessment",
    "UrlClaim",
    "UrlPriority",
    "WellbeingPrefs",
    "WorkspaceSettings",
]
