"""The diagnosis of one experiment that differed: the first rule of the catalog (most specific first)
that fits its evidence, with the text's fix; or, where none fits, what was seen and no fix."""
from __future__ import annotations

from dataclasses import dataclass

from scenarios.catalog.diagnoses import RULES
from scenarios.evidence import ABOUT_CHILDREN, Evidence, gather


@dataclass(frozen=True)
class Diagnosis:
    rule: str  # the rule's key; "" when none fit
    lesson: str
    seen: str
    fix: str  # "" when no rule fit

    def lines(self) -> list:
        """(label, text) pairs as the report prints them."""
        if not self.rule:
            return [("diagnosis", f"no rule of the lab fits what was seen: {self.seen}; no fix is given "
                                  f"rather than a wrong one")]
        return [("diagnosis", f"{self.seen} (the text's lesson: {self.lesson})"), ("fix", self.fix)]

    def as_dict(self) -> dict:
        return {"rule": self.rule, "lesson": self.lesson, "seen": self.seen, "fix": self.fix}


def diagnose(evidence: Evidence, rules=RULES) -> Diagnosis:
    for rule in rules:
        seen = rule.fits(evidence)
        if seen:
            return Diagnosis(rule.key, rule.lesson, seen, rule.fix)
    return Diagnosis("", "", evidence.seen(), "")


def of_result(result, yours: tuple, profile=None) -> Diagnosis | None:
    """The diagnosis of a RunResult about the reader's trials; None when it did not differ (or ERROR)."""
    if result.verdict.reproduced or result.verdict.verdict.value != "not-reproduced":
        return None
    return diagnose(gather(result, yours, profile))


def note(result, yours: tuple, profile=None) -> str:
    """For an experiment the server passed: why its lesson could not apply to this server, if it could not."""
    if profile is None or not result.verdict.reproduced or not profile.model or profile.forks:
        return ""
    e = gather(result, yours, profile)
    about = set(e.scenario_lessons) & ABOUT_CHILDREN
    if not about:
        return ""
    return (f"the lesson here is about children ({', '.join(sorted(about))}); your server forks none "
            f"({profile.model}), so it passes because there is nothing of that kind to go wrong, "
            f"not because it does what 3g does")
