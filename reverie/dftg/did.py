"""The difference in differences that says whether DFTG's targeted data did what it targets.

The profile (``python -m reverie.diagnose``) gives, per concept, ``hallucinations`` (descriptions that invent it)
and ``absent_images`` (descriptions of images without it). Pooled over a set of concepts, the invention rate is
sum(hallucinations) / sum(absent_images). Re-diagnosed before (the base) and after (the arm) on the same images:

    did = (after(targeted) - before(targeted)) - (after(untargeted) - before(untargeted))

``targeted`` is the set of concepts the arm's data targeted (its report's ``concept_weights``), untargeted the
others the profile knows. Negative: the targeted concepts' invention fell more than the rest's, which a general
change of the model (fewer objects named, another length) moves alike. One number per seed; the study pairs arms by
seed (reverie.paired).

CLI: ``python -m reverie.dftg.did BEFORE/profile.json AFTER/profile.json TARGETED.report.json`` prints the numbers as
JSON (the targeted concepts are the report's ``concept_weights``, as ``python -m reverie.targeted`` wrote them).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reverie.cli import user_errors
from reverie.dftg.profile import load_profile
from reverie.errors import InputError, MissingFileError


def pooled_rate(profile: Mapping[str, Any], concepts: Iterable[str]) -> float:
    """sum(hallucinations) / sum(absent_images) over ``concepts`` (0 when none is ever absent)."""
    table = profile["concepts"]
    names = list(concepts)
    missing = sorted(c for c in names if c not in table)
    if missing:
        raise InputError(f"profile has no concept(s) {missing}")
    absent = sum(table[c]["absent_images"] for c in names)
    return sum(table[c]["hallucinations"] for c in names) / absent if absent else 0.0


def invention_did(before: Mapping[str, Any], after: Mapping[str, Any], targeted: Iterable[str]) -> dict[str, float]:
    """The before/after invention rates of the targeted and the other concepts, their changes and the difference."""
    targets = set(targeted)
    if not targets:
        raise InputError("difference in differences: no targeted concepts")
    others = sorted(set(before["concepts"]) & set(after["concepts"]) - targets)
    if not others:
        raise InputError("difference in differences: every concept was targeted; nothing to compare against")
    rates = {
        f"{group}/{when}": pooled_rate(profile, names)
        for group, names in (("targeted", sorted(targets)), ("untargeted", others))
        for when, profile in (("before", before), ("after", after))
    }
    change_t = rates["targeted/after"] - rates["targeted/before"]
    change_u = rates["untargeted/after"] - rates["untargeted/before"]
    return {**rates, "targeted/change": change_t, "untargeted/change": change_u, "did": change_t - change_u}


def did_from_files(before: str | Path, after: str | Path, report: str | Path) -> dict[str, float]:
    """``invention_did`` of two profile files, targeted = the concepts of a targeted file's report."""
    path = Path(report)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such report (python -m reverie.targeted writes <stem>.report.json)")
    weights = json.loads(path.read_text(encoding="utf-8")).get("concept_weights")
    if not isinstance(weights, dict) or not weights:
        raise InputError(f"{path}: no concept_weights; is it a report of python -m reverie.targeted?")
    return invention_did(load_profile(before), load_profile(after), weights)


@user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reverie.dftg.did", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="profile.json of the model before the arm's data (the base)")
    parser.add_argument("after", help="profile.json of the arm's model, diagnosed on the same images")
    parser.add_argument("report", help="<stem>.report.json of the targeted file (its concept_weights)")
    args = parser.parse_args(argv)
    print(json.dumps(did_from_files(args.before, args.after, args.report), indent=2))


if __name__ == "__main__":
    main()
