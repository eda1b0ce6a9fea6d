"""The diagnosis of one experiment that differed: the rules of the catalog that fit its evidence, most
specific first, each with the text's fix; or, where none fits, what was seen and no fix."""
from __future__ import annotations

from dataclasses import dataclass

from scenarios.catalog.diagnoses import RULES
from scenarios.judging.evidence import ABOUT_CHILDREN, Evidence, gather
from scenarios.judging.profile import POOL


@dataclass(frozen=True)
class Finding:
    rule: str
    lesson: str
    seen: str
    fix: str


@dataclass(frozen=True)
class Diagnosis:
    findings: tuple  # Finding, most specific first; empty when no rule fit
    seen: str  # what was seen, for when none fit

    @property
    def rule(self) -> str:
        """The most specific rule that fit; "" when none did."""
        return self.findings[0].rule if self.findings else ""

    @property
    def fixes(self) -> list:
        return [f.fix for f in self.findings if f.fix]

    def lines(self) -> list:
        """(label, text) pairs as the report prints them."""
        if not self.findings:
            return [("diagnosis", f"no rule of the lab fits what was seen: {self.seen}; no fix is given "
                                  f"rather than a wrong one")]
        out = []
        for f in self.findings:
            out.append(("diagnosis", f"{f.seen} (the text's lesson: {f.lesson})"))
            if f.fix:
                out.append(("fix", f.fix))
        return out

    def as_dict(self) -> dict:
        return {"rules": [f.rule for f in self.findings], "findings": [vars(f) for f in self.findings],
                "seen": self.seen}


def diagnose(evidence: Evidence, rules=RULES) -> Diagnosis:
    findings, fixes = [], set()
    for rule in rules:
        seen = rule.fits(evidence)
        if seen and rule.fix not in fixes:  # two rules with one fix: the more specific one says it
            findings.append(Finding(rule.key, rule.lesson, seen, rule.fix))
            fixes.add(rule.fix)
    return Diagnosis(tuple(findings), evidence.seen())


def of_result(result, yours: tuple, profile=None) -> Diagnosis | None:
    """The diagnosis of a RunResult about the reader's trials; None when it did not differ (or ERROR)."""
    if result.verdict.verdict.value != "not-reproduced":
        return None
    return diagnose(gather(result, yours, profile))


def told(result, yours: tuple, profile=None) -> list:
    """(label, text) pairs a check says of one experiment, on the terminal and in its report.md alike:
    the diagnosis and fix of one that differed, or the note of one whose lesson could not apply."""
    found = of_result(result, yours, profile)
    said = note(result, yours, profile)
    return [*(found.lines() if found else []), *([("note", said)] if said else [])]


def note(result, yours: tuple, profile=None) -> str:
    """For an experiment the server passed: why its lesson could not apply to this server, if it could not."""
    if profile is None or not result.verdict.reproduced or not profile.model or profile.forks:
        return ""
    about = {lesson.key for lesson in result.scenario.lessons} & ABOUT_CHILDREN
    # The run that measured the profile is about the server starting, whatever lessons it may name.
    profiled = any(getattr(action, "key", "") == "profile-hold" for trial in result.scenario.trials
                   for action in trial.actions)
    if not about or profiled:
        return ""
    e = gather(result, yours, profile)
    if profile.model == POOL:
        # A pool's workers each accept and serve: the main process's count says nothing of theirs.
        held = (f"; its connections were spread over its pool of {profile.idle_processes} processes, each with a "
                f"nofile of its own, where 3g's parent holds its listener and each child one connection"
                if profile.idle_processes else "")
        forks = "no child per connection"
    else:
        held = (f"; every connection here was in its one process: it held up to {e.fds_peak} descriptors of its "
                f"nofile {e.nofile}, where 3g's parent holds its listener and each child one connection"
                if e.fds_peak and e.nofile else "")
        forks = "none"
    return (f"the lesson here is about children ({', '.join(sorted(about))}); your server forks {forks} "
            f"({profile.model}), so it passes because nothing of that kind can go wrong, not because it "
            f"does what the text's stage does{held}")
