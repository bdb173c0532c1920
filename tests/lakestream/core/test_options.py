"""The shared options: every command that chooses datasets takes `--datasets`, and keeps the
spelling it took before as an alias, all into `args.datasets`."""

from __future__ import annotations

import pytest

from consumers.cli import build_parser as sink_parser
from curation.cli import build_parser as curate_parser
from curation.cli import maintain_parser
from glue.cli import build_parser as glue_parser
from orchestration.cli import build_parser as lakestream_parser
from producers.cli import build_parser as producers_parser

# (the parser, the words before the option, the spelling the command took before, if any)
COMMANDS = [
    (producers_parser, [], "--topics"),
    (sink_parser, [], "--topics"),
    (curate_parser, [], None),
    (maintain_parser, [], None),
    (glue_parser, ["crawl"], "--dataset"),
    (lakestream_parser, ["audit"], None),
    (lakestream_parser, ["dlq", "list"], "--dataset"),
]
IDS = [f"{p.__module__}:{' '.join(w) or p.__name__}" for p, w, _ in COMMANDS]


@pytest.mark.parametrize(("parser", "words", "alias"), COMMANDS, ids=IDS)
def test_every_command_chooses_datasets_the_same_way(parser, words, alias) -> None:
    spellings = ["--datasets", *([alias] if alias else [])]
    for spelling in spellings:
        args = parser().parse_args([*words, spelling, "transactions", "logs_topic"])
        assert args.datasets == ["transactions", "logs_topic"]
    assert parser().parse_args(words).datasets is None  # all of them


@pytest.mark.parametrize(("parser", "words", "alias"), COMMANDS, ids=IDS)
def test_datasets_needs_a_name(parser, words, alias, capsys) -> None:
    with pytest.raises(SystemExit) as ended:
        parser().parse_args([*words, "--datasets"])
    assert ended.value.code == 2
    assert "argument --datasets" in capsys.readouterr().err


def test_json_and_group_prefix_read_the_same_everywhere() -> None:
    audit = lakestream_parser().parse_args(["audit", "--json", "--group-prefix", "g"])
    status = lakestream_parser().parse_args(["status", "--json"])
    curate = curate_parser().parse_args(["--json", "--group-prefix", "g"])
    sink = sink_parser().parse_args(["--json", "--group-prefix", "g"])
    assert (audit.json, audit.group_prefix) == (True, "g")
    assert (curate.json, curate.group_prefix, sink.group_prefix) == (True, "g", "g")
    assert status.json
    assert status.group_prefix == "lakestream-sink"


def test_help_names_the_option_and_its_alias_on_one_line() -> None:
    text = producers_parser().format_help()
    assert "--datasets NAME [NAME ...], --topics NAME [NAME ...]" in text
    assert text.count("--topics NAME") == 1


def test_dlq_replay_keeps_its_own_single_dataset() -> None:
    args = lakestream_parser().parse_args(["dlq", "replay", "--dataset", "social_posts"])
    assert args.dataset == "social_posts"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["dlq", "list", "--partition", "-1"], "argument --partition: -1 must be 0 or more"),
        (["dlq", "list", "--limit", "0"], "argument --limit: 0 must be greater than 0"),
        (["dlq", "replay", "--dataset", "x", "--limit", "-2"], "-2 must be greater than 0"),
    ],
)
def test_dlq_selection_refuses_impossible_numbers(words, message, capsys) -> None:
    with pytest.raises(SystemExit) as ended:
        lakestream_parser().parse_args(words)
    assert ended.value.code == 2
    assert message in capsys.readouterr().err
