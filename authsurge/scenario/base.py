"""Strict, the base of every scenario model: an unknown key is an error, not ignored.

In its own module so that model and traffic both derive from it without an import cycle
(model imports traffic).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)
