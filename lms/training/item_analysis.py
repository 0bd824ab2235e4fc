"""Item analysis of the knowledge checks: per bank item, how many attempts drew it, the proportion who answered it
correctly (difficulty, p) and its point-biserial discrimination against the rest of the attempt.

The discrimination of item i is the Pearson correlation, over the attempts that drew i, between the item score
(1 right, 0 wrong) and the rest score (the attempt's number correct without item i). Leaving the item out of the
total avoids the item correlating with itself, which inflates the value on short checks. It is undefined (None) when
every attempt scored the item, or the rest, the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms.extensions import db

TOO_EASY = 0.9    # p above this: nearly everyone answers it; it tells trainees apart poorly
TOO_HARD = 0.3    # p below this: check the key, the wording and the teaching
FEW_ATTEMPTS = 20  # below this the statistics are shown but are unstable


@dataclass
class ItemStats:
    item_id: str
    attempts: int
    p: float | None
    discrimination: float | None
    flags: list[str] = field(default_factory=list)


def point_biserial(item: list[int], rest: list[int]) -> float | None:
    n = len(item)
    if n < 2:
        return None
    mx, my = sum(item) / n, sum(rest) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(item, rest, strict=True))
    sxx = sum((x - mx) ** 2 for x in item)
    syy = sum((y - my) ** 2 for y in rest)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def item_statistics(attempts: Iterable[dict[str, int]], item_ids: Iterable[str] = ()) -> list[ItemStats]:
    """Statistics per item from the attempts' per-item results ({item id: 1 or 0}). Items in ``item_ids`` that no
    attempt drew are listed with no statistics."""
    scores: dict[str, list[int]] = {i: [] for i in item_ids}
    rests: dict[str, list[int]] = {i: [] for i in item_ids}
    for results in attempts:
        total = sum(int(v) for v in results.values())
        for item_id, v in results.items():
            scores.setdefault(item_id, []).append(int(v))
            rests.setdefault(item_id, []).append(total - int(v))
    out = []
    for item_id, xs in scores.items():
        n = len(xs)
        p = sum(xs) / n if n else None
        r = point_biserial(xs, rests[item_id])
        flags = []
        if p is not None and p > TOO_EASY:
            flags.append("too easy")
        if p is not None and p < TOO_HARD:
            flags.append("too hard")
        if r is not None and r < 0:
            flags.append("negative discrimination")
        out.append(ItemStats(item_id, n, p, r, flags))
    return out


def program_item_analysis(program_id: str) -> list[tuple]:
    """(module, [(bank question, ItemStats)]) for every active module, from every drawn attempt."""
    from lms.training.models import Module, QuizAttempt

    modules = db.session.execute(sa.select(Module).filter_by(program_id=program_id, is_active=True)
                                 .order_by(Module.position)).scalars().all()
    by_module: dict[int, list[dict]] = {m.id: [] for m in modules}
    for module_id, results in db.session.execute(
            sa.select(QuizAttempt.module_id, QuizAttempt.results).where(
                QuizAttempt.results.is_not(None), QuizAttempt.module_id.in_(list(by_module)))):
        by_module[module_id].append(results)
    out = []
    for m in modules:
        bank = {q["id"]: q for q in m.questions}
        stats = item_statistics(by_module[m.id], bank)
        out.append((m, [(bank.get(s.item_id), s) for s in stats], len(by_module[m.id])))
    return out
