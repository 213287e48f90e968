"""The words of every finding, in one place: how the terminal, the HTML report and the
leadership summary say what authsurge.analysis.findings decided.

Three registers, side by side for each kind of finding:

- ``headline(findings)``: the technical sentence a capacity planner acts on (terminal
  text and the HTML report's headline), one clause per finding;
- ``tiles(findings)``: the HTML headline box, a few short facts;
- ``sentences(findings)``: the leadership summary's plain sentences, terms explained.

Nothing here decides a fact: a renderer reads a finding's fields and formats them. The
number formats (``rate``, ``multiple``, ``ms``, ``percent``) are the ones every page uses,
so the pages and analysis.json agree.
"""

from authsurge.analysis.wording.figures import (
    PLAIN_STEPS,
    Finding,
    ms,
    multiple,
    percent,
    plain,
    rate,
)
from authsurge.analysis.wording.plain import sentences
from authsurge.analysis.wording.technical import (
    bottleneck_clause,
    clause,
    collapse_clause,
    cost_clause,
    headline,
    short_story,
    story_lines,
    tie_span,
)
from authsurge.analysis.wording.tiles import tiles

__all__ = [
    "PLAIN_STEPS",
    "Finding",
    "bottleneck_clause",
    "clause",
    "collapse_clause",
    "cost_clause",
    "headline",
    "ms",
    "multiple",
    "percent",
    "plain",
    "rate",
    "sentences",
    "short_story",
    "story_lines",
    "tie_span",
    "tiles",
]
