"""What a run concludes: a Verdict, the Judgment that carries it with what was seen, and the words each
command says it in. Verdicts travel as members of the enum; words exist only at the edges (terminal,
report.md, report.json).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    REPRODUCED = "reproduced"  # the text's prediction held
    NOT_REPRODUCED = "not-reproduced"  # it did not: the experiment ran and showed something else
    ERROR = "error"  # a fault of the harness or the engine: nothing is said about the server
    CANNOT = "cannot"  # the preflight found that this engine cannot reproduce it (scenarios.executor.preflight)

    @classmethod
    def of(cls, held: bool) -> Verdict:
        return cls.REPRODUCED if held else cls.NOT_REPRODUCED


@dataclass(frozen=True)
class Words:
    """How one command says each verdict."""

    reproduced: str
    not_reproduced: str
    error: str = "ERROR"
    cannot: str = "NOT ON THIS ENGINE"

    def __call__(self, verdict: Verdict) -> str:
        return getattr(self, verdict.name.lower())


SCENARIO_WORDS = Words("REPRODUCED", "NOT REPRODUCED")
LOAD_WORDS = Words("HELD", "NOT HELD")


def check_words(stage_name: str) -> Words:
    """`lbaws check`: a reader's file behaves as the text's stage, or differs."""
    return Words(f"BEHAVES AS THE TEXT'S {stage_name.upper()}", "DIFFERS")


@dataclass(frozen=True)
class Judgment:
    """A judge's conclusion: the verdict, what was observed in words, and the numbers behind it."""

    verdict: Verdict
    observed: str
    numbers: dict = field(default_factory=dict)
    lessons: tuple = ()  # keys of the scenario's Lessons that this outcome shows: faults with the text's fix

    @classmethod
    def of(cls, reproduced: bool, observed: str, numbers: dict | None = None, lessons=()) -> Judgment:
        return cls(Verdict.of(reproduced), observed, numbers or {}, tuple(lessons))

    @classmethod
    def error(cls, observed: str, numbers: dict | None = None) -> Judgment:
        return cls(Verdict.ERROR, observed, numbers or {})

    @classmethod
    def busy(cls, why: str, observed: str, numbers: dict | None = None) -> Judgment:
        """The load never brought the server to the event its lesson is about, for a reason of the machine's
        (`why`: the listen queue overflowing while the clients waited, in its numbers): ERROR, said as the
        machine's, since the run says nothing about the server either way."""
        return cls.error(f"{why} That is this machine, too busy to deliver the flood in time, not the server: "
                         f"this run says nothing about it; rerun on a quieter machine. {observed}", numbers)

    @classmethod
    def weighed(cls, yours: bool | None, labs: bool, observed: str, numbers: dict, lessons=(),
                lab_trial: str = "") -> Judgment:
        """A scenario judged in two parts: the reader's trial (`yours`; None when no reader's file ran, as in
        `lbaws scenario`) and the lab's own trials beside it. When only the lab's part failed, the run says
        nothing about the reader's server: ERROR, not DIFFERS."""
        if yours is None:
            return cls.of(labs, observed, numbers, lessons)
        if yours and not labs:
            return cls.error(f"the lab's own {lab_trial} did not show its part this time (on a busy machine, a "
                             f"timing; rerun), so this run says nothing about your server. {observed[:1].upper()}{observed[1:]}", numbers)
        return cls.of(yours and labs, observed, numbers, lessons)

    @property
    def reproduced(self) -> bool:
        return self.verdict is Verdict.REPRODUCED
