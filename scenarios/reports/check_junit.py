"""JUnit XML of `lbaws check`: one testcase per file x scenario, so CI systems and GitHub show each one.

A scenario that DIFFERS is a failure whose message is what the server did and the text's fix; an ERROR
is an error (the harness, not the file); a file the lab could not run is one failed testcase.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def testcase(suite: ET.Element, file_label: str, scenario: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=file_label, name=f"{file_label} x {scenario}",
                         time=f"{seconds:.2f}")


def write(checked: list, path: Path) -> Path:
    """`checked`: one dict per file: label, stage, scenarios (the rows of its summary.json) or refused."""
    root = ET.Element("testsuites", name="lbaws check")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for each in checked:
        suite = ET.SubElement(root, "testsuite", name=each["label"])
        counts = {"tests": 0, "failures": 0, "errors": 0}
        if each.get("refused"):
            case = testcase(suite, each["label"], "starts", 0.0)
            ET.SubElement(case, "failure", message=each["refused"], type="cannot run")
            counts["tests"], counts["failures"] = 1, 1
        for row in each.get("scenarios", []):
            case = testcase(suite, each["label"], row["scenario"], row.get("duration_s") or 0.0)
            counts["tests"] += 1
            if row["agrees"]:
                continue
            message = " ".join([row["observed"], *[f"Fix: {fix}" for fix in row.get("fix", [])]])
            kind = "error" if row.get("outcome") == "error" else "failure"
            ET.SubElement(case, kind, message=message, type=row["verdict"]).text = message
            counts["errors" if kind == "error" else "failures"] += 1
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    for name, value in totals.items():
        root.set(name, str(value))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
