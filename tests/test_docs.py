"""The README and docs/ kept true to the code: every flag of every command in its page, the scenario
tables against the catalog, the README's figures against the measurement they come from, every link
resolving, and every README command one that parses as written. No Docker: it reads files and parsers."""
import argparse
import json
import re
import shlex
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from commands import bench, check, load, scenario, watch
from commands import doctor
from lbaws import cli as serve_cli, rlimits, stages
from lbaws.client import command as client_command
from scenarios import catalog
from scenarios.executor import check_plan
from watch import pollbench

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# The scenarios' times in the README: `make scenarios`'s reports/summary.json, as that run wrote it.
MEASURED = DOCS / "measured" / "scenarios-summary.json"
MAX_README_LINES = 200
# The README's sections, in the order a newcomer needs them.
README_SECTIONS = ["Quick start", "The scenarios", "Check your own server", "Run a server", "More", "Tests",
                   "Licence"]
TEXT_PARTS = [f"https://ruslanspivak.com/lsbaws-part{n}/" for n in (1, 2, 3)]
# Pages another branch adds at the same time (issue: HTTP framing); linked from the index already.
PENDING_PAGES: set = set()
A_FILE = Path("webserver.py")  # check_plan.substitutions() puts a file in; this one is never read


def read(path):
    return path.read_text()


def headings(text, level="## "):
    return [line[len(level):] for line in text.splitlines() if line.startswith(level)]


# --- Every flag in its page --------------------------------------------------------------------------
class Captured(Exception):
    """Raised in place of parse_args, carrying the parser a main() built for itself."""


def parser_built_by(main):
    """The argparse parser a command's main() builds inside itself, caught before it parses anything."""
    original = argparse.ArgumentParser.parse_args

    def capture(self, *args, **kwargs):
        raise Captured(self)

    argparse.ArgumentParser.parse_args = capture
    try:
        main([])
    except Captured as caught:
        return caught.args[0]
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f"{main} parsed no arguments")


def serve_parser():
    commands = next(a for a in serve_cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["serve"]


def flags(parser):
    return sorted({option for action in parser._actions for option in action.option_strings
                   if option.startswith("--") and option != "--help"})


# Each command, the page that documents it, and its flags read from the parser itself.
COMMANDS = {
    "lbaws serve": ("stages.md", lambda: flags(serve_parser())),
    "lbaws limits": ("stages.md", lambda: sorted(set(re.findall(r"--[a-z][a-z-]*", rlimits.USAGE)))),
    "lbaws scenario": ("scenarios.md", lambda: flags(scenario.build_parser())),
    "lbaws doctor": ("scenarios.md", lambda: flags(parser_built_by(doctor.main))),
    "lbaws check": ("checking.md", lambda: flags(check.build_parser())),
    "lbaws load": ("load-and-bench.md", lambda: flags(load.build_parser())),
    "lbaws bench": ("load-and-bench.md", lambda: flags(bench.build_parser())),
    "lbaws-client": ("load-and-bench.md", lambda: flags(client_command.build_parser())),
    "lbaws watch": ("watch.md", lambda: flags(watch.build_parser())),
    "python -m watch.pollbench": ("watch.md", lambda: flags(parser_built_by(pollbench.main))),
}


def mentions(text, flag):
    return re.search(re.escape(flag) + r"(?![\w-])", text) is not None


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_of_the_command_is_in_its_page(command):
    page, read_flags = COMMANDS[command]
    found = read_flags()
    assert found, f"{command}: no flags read: the parser moved"
    text = read(DOCS / page)
    assert [flag for flag in found if not mentions(text, flag)] == [], f"{command}: flags missing from docs/{page}"


def test_the_flag_reader_sees_a_flag_a_page_lacks():
    assert mentions("`--max-requests N`", "--max-requests") and not mentions("`--max-requests-jitter`", "--max-requests")
    assert "--worker-timeout" in COMMANDS["lbaws serve"][1]() and "--json" in COMMANDS["lbaws doctor"][1]()


def test_every_input_of_the_reusable_workflow_is_in_the_checking_page():
    workflow = YAML(typ="safe").load(read(ROOT / ".github" / "workflows" / "check-server.yml"))
    inputs = (workflow.get(True) or workflow["on"])["workflow_call"]["inputs"]
    text = read(DOCS / "checking.md")
    assert [name for name in inputs if f"`{name}`" not in text] == []


def test_every_make_target_is_named_in_the_development_page():
    targets = re.findall(r"^([a-z-]+):.*## ", read(ROOT / "Makefile"), re.M)
    text = read(DOCS / "development.md")
    assert targets and [target for target in targets if f"`make {target}" not in text] == []


# --- The scenario tables and the stage table, against the catalog ------------------------------------
def table_rows(text, first_header):
    """The rows of the markdown table whose header starts with first_header, as lists of cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def readme_scenario_row(scenario, seconds):
    """The README's row for a scenario: its name, its stages, what it shows, the text's file and command,
    and its time as measured."""
    cells = [f"`{scenario.name}`", ", ".join(scenario.stages), scenario.summary, scenario.section, f"{seconds:.0f} s"]
    # Markdown would take <defunct> for an HTML tag and hide it.
    return [cell.replace("<", "&lt;").replace(">", "&gt;") for cell in cells]


def measured_seconds():
    data = json.loads(read(MEASURED))
    return {row["scenario"]: row["duration_s"] for row in data["scenarios"]}


def test_the_readme_scenario_table_is_the_catalogs_with_the_measured_times():
    seconds = measured_seconds()
    expected = [readme_scenario_row(s, seconds[s.name]) for s in catalog.all_scenarios().values()]
    found = table_rows(read(README), "scenario")
    assert found == expected, "the README's table should read:\n" + "\n".join(
        "| " + " | ".join(row) + " |" for row in expected)


def test_the_measurement_is_one_run_of_every_scenario():
    data = json.loads(read(MEASURED))
    assert [row["scenario"] for row in data["scenarios"]] == catalog.names()
    assert data["total"] == len(catalog.names()) and all(row["duration_s"] > 0 for row in data["scenarios"])


def test_the_scenarios_page_table_has_the_catalogs_names_and_stages():
    found = [row[:2] for row in table_rows(read(DOCS / "scenarios.md"), "scenario")]
    assert found == [[f"`{s.name}`", ", ".join(s.stages)] for s in catalog.all_scenarios().values()]


def test_the_stages_page_says_what_lbaws_check_runs_each_stage_in():
    rows = {row[0]: row for row in table_rows(read(DOCS / "stages.md"), "stage")}
    assert list(rows) == [f"`{stage.name}`" for stage in stages.STAGES]
    for stage in stages.STAGES:
        runs = [sub.scenario.name for sub in check_plan.substitutions(A_FILE, stage)]
        row = rows[f"`{stage.name}`"]
        assert row[1] == (stage.tutorial_file or "beyond the text")
        assert row[3] == (", ".join(f"`{name}`" for name in runs) or "none: `lbaws check` refuses it"), stage.name


def test_3a_is_the_one_stage_no_experiment_checks():
    assert [stage.name for stage in stages.STAGES if not check_plan.substitutions(A_FILE, stage)] == ["3a"]


# --- The README's blocks, as the code prints them -----------------------------------------------------
def indented_block(text, first_line_prefix):
    """An indented (4 spaces) block of output starting with a line that starts with first_line_prefix."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    " + first_line_prefix))
    block = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        block.append(line[4:])
    return block


def wrapped(label, text):
    return textwrap.fill(text, 100, initial_indent=f"  {label:<11}", subsequent_indent=" " * 13).splitlines()


def test_the_reproduced_block_is_fd_exhaustions_as_the_runner_prints_it():
    block = indented_block(read(README), "fd-exhaustion: REPRODUCED")
    scenario_ = catalog.get("fd-exhaustion")
    assert re.fullmatch(r"fd-exhaustion: REPRODUCED  \(\d+\.\ds\)", block[0])
    text = "\n".join(block)
    assert "\n".join(wrapped("predicted", scenario_.prediction)) in text
    assert "\n".join(wrapped("why", scenario_.why)) in text
    assert "accept() failed with [Errno 24]" in text or "Too many open files" in text


def test_the_differs_block_is_client_hangs_as_lbaws_check_prints_it():
    for page in (README, DOCS / "checking.md"):
        block = "\n".join(indented_block(read(page), "client-hang: DIFFERS"))
        scenario_ = catalog.get("client-hang")
        assert "\n".join(wrapped("the text", scenario_.prediction)) in block, page
        assert "\n".join(wrapped("why", scenario_.why)) in block, page
        assert "  diagnosis  " in block and "  fix        " in block, page


def test_the_doctor_figures_agree_wherever_they_are_quoted():
    doctor_block = re.search(r"processes (\d+)/(\d+)", read(DOCS / "scenarios.md"))
    quoted = re.findall(r"`nproc` (\d+)", read(DOCS / "kubernetes.md").replace("\n  ", " "))
    assert doctor_block and quoted == [doctor_block.group(2)]


# --- The README's shape and links ---------------------------------------------------------------------
def test_the_readme_is_short_and_in_order():
    text = read(README)
    assert len(text.splitlines()) <= MAX_README_LINES
    assert headings(text) == README_SECTIONS
    assert all(url in text for url in TEXT_PARTS)
    pictures = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(pictures) == 1 and (ROOT / pictures[0]).is_file()


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    return {slug(line.lstrip("#")) for line in read(path).splitlines() if re.match(r"#{1,6} ", line)}


MARKDOWN = [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", read(page)):
        if re.match(r"\w+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if path.name in PENDING_PAGES and not path.exists():
            continue
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
            broken.append(target)
    assert broken == []


def test_every_docs_page_says_what_it_is_for():
    for page in sorted(DOCS.glob("*.md")):
        first_paragraph = read(page).split("\n\n")[1]
        assert first_paragraph.startswith("What this page is for:"), page.name


def test_the_glossary_explains_the_terms_the_issue_named():
    terms = {slug(h) for h in headings(read(DOCS / "glossary.md"), "### ")}
    wanted = ["trial", "judge", "probe", "preflight", "sampler", "pids cgroup", "rlimit", "capabilities",
              "no-new-privileges", "docker-init", "shell-form CMD", "mmdebstrap", "wheelhouse",
              "entry-point group", "EPOLLEXCLUSIVE", "ListenOverflows", "conntrack", "p99", "xdist"]
    assert [term for term in wanted if slug(term) not in terms] == []


# --- Every README command pastes as it is ------------------------------------------------------------
def readme_commands():
    text = read(README)
    blocks = re.findall(r"^```sh\n(.*?)^```$", text, re.M | re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


PARSERS = {"scenario": scenario.build_parser, "check": check.build_parser, "load": load.build_parser,
           "bench": bench.build_parser, "watch": watch.build_parser}


def test_every_readme_command_parses_as_written():
    commands = readme_commands()
    assert len(commands) >= 8
    targets = set(re.findall(r"^([a-z-]+):", read(ROOT / "Makefile"), re.M))
    for line in commands:
        words = shlex.split(line)
        assert not any(re.fullmatch(r"[A-Z_]{3,}|<.*>|\.\.\.", word) for word in words), f"a placeholder: {line}"
        if words[0] == "make":
            target = words[1]
            assert target in targets, line
            if target == "scenario":
                assert words[2] in catalog.names(), line
        elif words[0] == ".venv/bin/lbaws":
            args = PARSERS[words[1]]().parse_args(words[2:])
            for path in getattr(args, "file", None) or []:
                assert (ROOT / path).exists(), line
            if words[1] == "scenario":
                assert set(args.names) <= set(catalog.names()), line
        else:
            assert words[0] in ("docker", "curl"), f"not a command the README explains: {line}"
