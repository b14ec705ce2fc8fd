from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def attr_value(obj: Any, name: str) -> Any:
    """``obj.<name>`` for a field name held in a variable (the classification flags)."""
    return getattr(obj, name, None)


@register.filter
def json_attr(value: Any) -> str:
    """``value`` as JSON for an attribute such as ``hx-vals`` (escaped by the template)."""
    return json.dumps(value)
