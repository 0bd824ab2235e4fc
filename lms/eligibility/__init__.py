"""Eligibility: decide, from plain facts, whether a trainee meets a certification standard."""

from lms.eligibility.engine import Decision, RequirementResult, evaluate, hours_by_category

__all__ = ["Decision", "RequirementResult", "evaluate", "hours_by_category"]
