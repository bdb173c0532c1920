"""The IAM evaluator the stage-policy tests rely on: it must catch a missing permission, a
condition that does not hold, and what a policy allows beyond the calls."""

from __future__ import annotations

from tests.aws_calls import Need
from tests.infra.iam import evaluate, matches

BUCKET = "arn:aws:s3:::lake"
POLICY = {
    "Statement": [
        {
            "Sid": "Write",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"{BUCKET}/t/*", f"{BUCKET}/_dlq/*"],
        },
        {
            "Sid": "List",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [BUCKET],
            "Condition": {"StringLike": {"s3:prefix": ["t/*", "other/*"]}},
        },
    ]
}


def test_wildcards_follow_iam() -> None:
    assert matches("arn:aws:s3:::lake/t/*", "arn:aws:s3:::lake/t/dt=1/x")
    assert matches("s3:Get*", "s3:GetObject")
    assert matches("a?c", "abc")
    assert not matches("arn:aws:s3:::lake/t/*", "arn:aws:s3:::lake/u/x")
    assert not matches("s3:Get", "s3:GetObject")  # whole strings only


def test_a_call_outside_the_resources_or_the_condition_is_missing() -> None:
    needs = {
        Need("s3:PutObject", f"{BUCKET}/t/a"),
        Need("s3:PutObject", f"{BUCKET}/u/a"),  # another prefix
        Need("s3:ListBucket", BUCKET, prefix="t/"),
        Need("s3:ListBucket", BUCKET),  # a HeadBucket or a 404: no prefix in the request
        Need("s3:GetObject", f"{BUCKET}/t/a"),  # no such action
    }
    verdict = evaluate(POLICY, needs)
    assert [(n.action, n.resource, n.prefix) for n in verdict.missing] == [
        ("s3:GetObject", f"{BUCKET}/t/a", None),
        ("s3:ListBucket", BUCKET, None),
        ("s3:PutObject", f"{BUCKET}/u/a", None),
    ]


def test_what_no_call_uses_is_reported() -> None:
    verdict = evaluate(POLICY, {Need("s3:PutObject", f"{BUCKET}/t/a")})
    assert verdict.missing == []
    assert verdict.unused == [
        "Write: s3:DeleteObject is never needed",
        f"Write: {BUCKET}/_dlq/* is never needed",
        "List: s3:ListBucket is never needed",
        f"List: {BUCKET} is never needed",
        "List: s3:prefix t/* is never needed",
        "List: s3:prefix other/* is never needed",
    ]
