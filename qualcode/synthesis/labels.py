"""CQR frequency labels (general, typical, variant, rare) as small, printable rules.

A rule is a list of clauses tried in order; a category gets the label of the first
clause whose threshold its case count meets::

    general >= N-1; typical > N/2; variant >= 4 if N > 15; rare >= 2 if N > 15; variant >= 2

Thresholds are a whole number, ``N``, ``N-k`` or ``N/k`` (N = number of cases);
the operator is ``>=``, ``>`` or ``=``; ``if N > 15`` (or ``>=``, ``<``, ``<=``)
limits a clause to some study sizes. Whatever the clauses say, a category seen in a
single case goes to the miscellaneous list and one seen in no case gets no label.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from ..errors import QualcodeError

MISCELLANEOUS = "miscellaneous"

# No labels at all: every category with its blocks and cases, none moved to a miscellaneous list
# (how a study with few cases reports its table, e.g. four focus groups).
NO_LABELS = "none"

PRESETS = {
    # Hill et al. (2005); Hill (2012): "rare" only when there are more than 15 cases.
    "hill2005": (
        "Hill et al., 2005",
        "general >= N-1; typical > N/2; variant >= 4 if N > 15; rare >= 2 if N > 15; variant >= 2",
    ),
    # Hill, Thompson & Williams (1997): general = all, typical = at least half.
    "hill1997": ("Hill, Thompson, & Williams, 1997", "general = N; typical >= N/2; variant >= 2"),
}
DEFAULT_RULE = "hill2005"

_OPS = {">=": operator.ge, ">": operator.gt, "=": operator.eq, "<=": operator.le, "<": operator.lt}
_CLAUSE = re.compile(
    r"^\s*(?P<label>[A-Za-z][\w-]*)\s*(?P<op>>=|>|=)\s*(?P<expr>\d+|N(?:\s*[-/]\s*\d+)?)"
    r"(?:\s+if\s+N\s*(?P<cond_op>>=|>|<=|<|=)\s*(?P<cond_value>\d+))?\s*$"
)


@dataclass(frozen=True)
class Clause:
    label: str
    op: str
    expr: str  # "7", "N", "N-1", "N/2"
    cond_op: str | None = None
    cond_value: int | None = None

    def threshold(self, n: int) -> float:
        expr = self.expr.replace(" ", "")
        if expr.isdigit():
            return int(expr)
        if expr == "N":
            return n
        amount = int(expr[2:])
        return n - amount if expr[1] == "-" else n / amount

    def applies(self, count: int, n: int) -> bool:
        if self.cond_op is not None and self.cond_value is not None and not _OPS[self.cond_op](n, self.cond_value):
            return False
        return _OPS[self.op](count, self.threshold(n))


@dataclass(frozen=True)
class FrequencyRule:
    name: str  # preset name or "custom"
    source: str  # citation for the note
    spec: str
    clauses: tuple[Clause, ...]

    @property
    def labels_off(self) -> bool:
        return self.name == NO_LABELS

    def label(self, count: int, n: int) -> str:
        """The label of a category seen in ``count`` of ``n`` cases."""
        if count <= 0 or self.labels_off:
            return ""
        if count == 1:
            return MISCELLANEOUS
        for clause in self.clauses:
            if clause.applies(count, n):
                return clause.label
        return ""

    def describe(self, n: int) -> str:
        """The rule as it falls for this study, e.g. ``general = 11-12 cases, typical = 7-10, ...``."""
        if self.labels_off:
            return f"No frequency labels: every category is listed with its blocks and cases (N = {n} cases)."
        runs: list[tuple[str, int, int]] = []
        for count in range(n, 1, -1):
            label = self.label(count, n)
            if runs and runs[-1][0] == label and runs[-1][2] == count + 1:
                runs[-1] = (label, runs[-1][1], count)
            else:
                runs.append((label, count, count))
        parts = [
            f"{label or 'no label'} = {low if low == high else f'{low}–{high}'} "
            f"{'case' if high == low == 1 else 'cases'}"
            for label, high, low in runs
        ]
        parts.append("a category found in a single case is listed as miscellaneous")
        return f"Frequency labels ({self.source}; N = {n} cases): " + "; ".join(parts) + "."


def parse_rule(spec: str | None = None) -> FrequencyRule:
    """A preset name (hill2005, hill1997) or a custom rule string."""
    spec = (spec or DEFAULT_RULE).strip()
    if spec.casefold() == NO_LABELS:
        return FrequencyRule(NO_LABELS, "", NO_LABELS, ())
    if spec.casefold() in PRESETS:
        source, text = PRESETS[spec.casefold()]
        return FrequencyRule(spec.casefold(), source, text, _parse_clauses(text, spec))
    return FrequencyRule("custom", "custom rule", spec, _parse_clauses(spec, spec))


def _parse_clauses(text: str, spec: str) -> tuple[Clause, ...]:
    clauses = []
    for part in filter(str.strip, text.split(";")):
        match = _CLAUSE.match(part)
        if match is None:
            presets = ", ".join(PRESETS)
            raise QualcodeError(
                f"label rule {spec!r}: cannot read {part.strip()!r} "
                f"(use a preset: {presets}, or clauses like 'general >= N-1; typical > N/2; variant >= 2')"
            )
        value = match["cond_value"]
        clauses.append(
            Clause(
                match["label"], match["op"], match["expr"], match["cond_op"], int(value) if value is not None else None
            )
        )
    if not clauses:
        raise QualcodeError(f"label rule {spec!r} has no clauses")
    return tuple(clauses)
