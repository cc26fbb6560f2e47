"""One line per figure a benchmark holds against a goal, in one shape, so that ``bench/all.py``
can gather every bench's figures into one table.

A bench calls :func:`goal` for each figure it measured, beside the bound or baseline measured in
the same run::

    from goals import goal
    goal("load, account-wide: wall / least time", 1.044, "<= 1.10")

and the line ``GOAL | load, account-wide: wall / least time | 1.04 | <= 1.10 | met`` is printed
among its other output.
"""

from __future__ import annotations

import operator

__all__ = ["PREFIX", "goal", "parse"]

PREFIX = "GOAL | "
_COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def goal(measure: str, figure: float, target: str, *, digits: int = 2) -> bool:
    """Print ``measure``'s ``figure`` beside its ``target`` (``"<= 1.10"``, ``">= 0.8"``) and
    whether it is met; returns True when met.

    >>> goal("refused share (%)", 0.0, "<= 0.5")
    GOAL | refused share (%) | 0.00 | <= 0.5 | met
    True
    """
    sign, _, bound = target.partition(" ")
    met = bool(_COMPARE[sign](round(figure, digits), float(bound)))
    print(f"{PREFIX}{measure} | {figure:.{digits}f} | {target} | {'met' if met else 'NOT MET'}")
    return met


def parse(line: str) -> tuple[str, str, str, bool] | None:
    """(measure, figure, target, met) of a :func:`goal` line, else None.

    >>> parse("GOAL | x | 1.04 | <= 1.10 | met")
    ('x', '1.04', '<= 1.10', True)
    """
    if not line.startswith(PREFIX):
        return None
    parts = [part.strip() for part in line[len(PREFIX) :].split(" | ")]
    if len(parts) != 4:
        return None
    measure, figure, target, verdict = parts
    return measure, figure, target, verdict == "met"
