"""`lbaws doctor`: what kind of Docker engine this is, and which scenarios cannot reproduce on it.

    lbaws doctor            # the engine's facts, then each scenario that cannot run here and why
    lbaws doctor --json     # the same for programs

The same preflight (scenarios.executor.preflight) runs before every `lbaws scenario`. Exit status: 0 every
scenario can reproduce here, 1 some cannot, 3 no Docker engine.
"""
from __future__ import annotations

import json
import sys

from commands.common import EXIT_ENGINE, EXIT_FAILED, EXIT_OK, Parser, Refused, command

PROG = "lbaws doctor"


def main(argv=None) -> int:
    return command(PROG, run, argv)


def run(argv) -> int:
    parser = Parser(prog=PROG, description="What this Docker engine is, and which scenarios it cannot run.")
    parser.add_argument("--json", action="store_true", help="print the facts and the blocked scenarios as JSON")
    args = parser.parse_args(argv)
    from lab import inventory
    from scenarios import catalog
    from scenarios.executor import preflight

    try:
        facts = preflight.gather(inventory.connect(timeout=120))
    except inventory.LabError as exc:
        raise Refused(str(exc), EXIT_ENGINE) from None
    scenarios = catalog.all_scenarios()
    blocked = preflight.blocked(scenarios, facts)
    if args.json:
        print(json.dumps({"facts": facts.as_dict(), "cannot_reproduce": blocked}, indent=2))
    else:
        print(preflight.report(facts, scenarios))
    return EXIT_FAILED if blocked else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
