"""Just enough of IAM's policy evaluation to hold a policy against the calls a stage makes.

Identity policies with Allow statements only: an action and a resource match by IAM's
wildcards (`*`, `?`); the condition keys the stage policies use are `s3:prefix` (StringLike)
and `kms:ViaService` (StringEquals). A key the request does not carry makes its condition
false, as in IAM: a HeadBucket (no prefix) is not allowed by a prefix-scoped ListBucket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tests.aws_calls import Need


@cache
def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    )


def matches(glob: str, value: str) -> bool:
    return _pattern(glob).fullmatch(value) is not None


def _context(need: Need, key: str) -> str | None:
    if key == "s3:prefix":
        return need.prefix
    if key == "kms:ViaService":
        return need.via
    raise AssertionError(f"a condition key this evaluator does not know: {key}")


def _conditions_hold(statement: dict, need: Need) -> bool:
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            value = _context(need, key)
            if value is None:
                return False
            if operator == "StringLike":
                ok = any(matches(v, value) for v in values)
            elif operator == "StringEquals":
                ok = value in values
            else:
                raise AssertionError(
                    f"a condition operator this evaluator does not know: {operator}"
                )
            if not ok:
                return False
    return True


def allows(statement: dict, need: Need) -> bool:
    assert statement["Effect"] == "Allow", "the stage policies allow only"
    return (
        any(matches(a, need.action) for a in statement["Action"])
        and any(matches(r, need.resource) for r in statement["Resource"])
        and _conditions_hold(statement, need)
    )


@dataclass
class Verdict:
    missing: list[Need]  # needed, allowed by no statement
    unused: list[str]  # parts of the policy no need uses


def evaluate(policy: dict, needs: set[Need]) -> Verdict:
    statements = policy["Statement"]
    missing = sorted(
        (n for n in needs if not any(allows(s, n) for s in statements)),
        key=lambda n: (n.action, n.resource),
    )
    unused = []
    for statement in statements:
        used = [n for n in needs if allows(statement, n)]
        sid = statement["Sid"]
        for action in statement["Action"]:
            if not any(matches(action, n.action) for n in used):
                unused.append(f"{sid}: {action} is never needed")
        for resource in statement["Resource"]:
            if not any(matches(resource, n.resource) for n in used):
                unused.append(f"{sid}: {resource} is never needed")
        for key, values in statement.get("Condition", {}).get("StringLike", {}).items():
            for value in values:
                if not any(matches(value, _context(n, key) or "") for n in used):
                    unused.append(f"{sid}: {key} {value} is never needed")
    return Verdict(missing, unused)
