"""The modules' shape (terraform-aws-modules style) and the root's wiring of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA, MODULES, all_configs, load, module_dirs, one

REQUIRED_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
CONFIGS = all_configs()
IDS = [str(c.path.relative_to(INFRA.parent)) for c in CONFIGS]


def test_the_modules_exist() -> None:
    names = {p.name for p in module_dirs()}
    expected = {"kafka", "s3_lake", "glue_catalog", "curated_lake", "athena", "dataset_catalog",
                "stage_policies", "api", "release", "ssm_instance", "service_group",
                "monitoring"}  # fmt: skip
    assert expected == names


@pytest.mark.parametrize("module", module_dirs(), ids=lambda p: p.name)
def test_module_has_the_standard_files(module: Path) -> None:
    missing = [f for f in REQUIRED_FILES if not (module / f).is_file()]
    assert not missing, f"{module.name} lacks {missing}"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_variable_is_typed_and_described(config) -> None:
    assert config.variables, f"{config.path} declares no variables"
    for name, var in config.variables.items():
        assert "type" in var, f"{config.path.name}: variable {name} has no type"
        description = var.get("description", "")
        assert len(description) >= 15, f"{config.path.name}: variable {name} is not described"


def _module_validations(config) -> dict[str, bool]:
    """Root variable => whether a module validates it, where the root passes it straight on
    (directly, or through a local that only picks a default)."""
    found: dict[str, bool] = {}
    for block in config.modules.values():
        module = load(INFRA / block["source"].removeprefix("./"))
        for argument, value in block.items():
            target = module.variables.get(argument)
            if not isinstance(value, str) or target is None:
                continue
            names = re.findall(r"var\.([a-z_]+)", value)
            for local in re.findall(r"local\.([a-z_]+)", value):
                names += re.findall(r"var\.([a-z_]+)", str(config.locals.get(local, "")))
            for name in names:
                found[name] = found.get(name, False) or bool(target.get("validation"))
    return found


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_scalar_or_list_variable_is_validated(config) -> None:
    # Booleans and free-form tag maps have nothing to validate; everything else is checked at
    # the boundary, so a bad value fails at plan time with our message, not deep in AWS. The
    # root leaves to a module what it passes straight to that module.
    by_module = _module_validations(config) if config.path == INFRA else {}
    unvalidated = [
        name
        for name, var in config.variables.items()
        if var["type"].removeprefix("${").removesuffix("}") not in ("bool", "map(string)")
        and not var.get("validation")
        and not by_module.get(name)
    ]
    assert not unvalidated, f"{config.path.name}: no validation for {unvalidated}"


# Root rules that differ from the module's, on purpose.
ROOT_OWN_RULES = {
    "bucket_suffix": "a deployment needs a suffix (S3 names are global); the module accepts none",
}


def test_the_root_repeats_no_validation_a_module_owns() -> None:
    root = load(INFRA)
    by_module = _module_validations(root)
    repeated = [
        name
        for name, var in root.variables.items()
        if var.get("validation") and by_module.get(name) and name not in ROOT_OWN_RULES
    ]
    assert not repeated, f"validated both at the root and in a module: {repeated}"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_validation_has_a_condition_and_a_message(config) -> None:
    for name, var in config.variables.items():
        for rule in var.get("validation", []):
            assert "var." + name in rule["condition"], f"{name}: validation tests another value"
            assert rule["error_message"].endswith("."), f"{name}: message is not a sentence"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_every_output_is_described(config) -> None:
    assert config.outputs
    for name, output in config.outputs.items():
        assert output.get("description"), f"{config.path.name}: output {name} is not described"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_versions_are_pinned_to_a_major(config) -> None:
    block = one(config.terraform)
    assert block["required_version"].startswith(">= 1."), block
    for provider in block.get("required_providers", [{}])[0].values():
        assert re.fullmatch(r">= [\d.]+, < \d+\.0", provider["version"]), provider


def test_the_root_calls_the_modules_of_the_lake() -> None:
    assert set(load(INFRA).modules) == {
        "catalog",
        "kafka",
        "s3_lake",
        "glue_catalog",
        "curated_lake",
        "athena",
        "stage_policies",
        "api",
        "release",
        "sink",
        "curation",
        "monitoring",
    }


def _called(config, name: str):
    return load((config.path / config.modules[name]["source"]).resolve())


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_module_calls_pass_declared_inputs_and_every_required_one(config) -> None:
    # The root's calls and the modules' own (the API's release, the instances' ssm_instance).
    for name, call in config.modules.items():
        source = (config.path / call["source"]).resolve()
        assert source.parent == MODULES, f"module {name} is not one of ours: {source}"
        declared = _called(config, name).variables
        passed = set(call) - {"source", "providers", "depends_on", "count", "for_each"}
        undeclared = passed - set(declared)
        assert not undeclared, f"module {name} is given undeclared inputs {undeclared}"
        required = {v for v, body in declared.items() if "default" not in body}
        assert required <= passed, f"module {name} misses required inputs {required - passed}"


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_module_outputs_used_exist(config) -> None:
    # The parsed blocks, without comments, and without moved blocks (they name resources).
    blocks = [config.variables, config.outputs, config.locals, config.modules]
    text = json.dumps([*blocks, list(config.resources.values()), list(config.data.values())])
    used = set(re.findall(r"module\.(\w+)(?:\[\d+\])?\.(\w+)", text))
    for module, output in used:
        outputs = _called(config, module).outputs
        assert output in outputs, f"module.{module}.{output} is not an output of {module}"


MOVED_TO = re.compile(r'\$\{module\.(\w+)\.(\w+)\.(\w+)(?:\["([^"]+)"\])?\}')
MOVED_OUT = re.compile(r"\$\{module\.(\w+)(?:\[\d+\])?\.(\w+)\.(\w+)\}")


@pytest.mark.parametrize("config", [c for c in CONFIGS if c.moved], ids=lambda c: c.path.name)
def test_moved_blocks_lead_from_what_is_gone_to_what_exists(config) -> None:
    """A move from a resource still in the configuration, or to one no module declares, would
    leave an existing deployment's resource to be destroyed and created again."""
    sources = [block["from"] for block in config.moved]
    targets = [block["to"] for block in config.moved]
    assert len(set(sources)) == len(sources), "a resource moved twice"
    assert len(set(targets)) == len(targets), "two resources moved to one address"
    for block in config.moved:
        if out_of := MOVED_OUT.fullmatch(block["from"]):
            # Out of a module this one calls, into one of its own resources: gone from there,
            # declared here.
            call, kind, name = out_of.groups()
            assert (kind, name) not in _called(config, call).resources, f"{block['from']} remains"
            to = block["to"].removeprefix("${").removesuffix("}").split(".")
            assert tuple(to) in config.resources, f"{block['to']} is not declared here"
            continue
        kind, name = block["from"].removeprefix("${").removesuffix("}").split(".")[:2]
        assert (kind, name) not in config.resources, f"{kind}.{name} moved but is still declared"
        target = MOVED_TO.fullmatch(block["to"])
        assert target, f"{block['to']}: not a resource of a module this one calls"
        call, kind, name, key = target.groups()
        assert "count" not in config.modules[call], f"module.{call}: moves name no instance key"
        assert "for_each" not in config.modules[call], f"module.{call}: moves name no key"
        resource = _called(config, call).resources.get((kind, name))
        assert resource is not None, f"{block['to']}: module.{call} declares no {kind}.{name}"
        if key is None:
            # The whole resource: its instances keep their keys, so it iterates (count) on
            # both sides or on neither, never by key.
            assert "for_each" not in resource, block
        else:
            # One instance of a for_each: the call passes that key.
            assert key in _keys_passed(config.modules[call], resource["for_each"]), block["to"]


# ssm_instance's inline policies: the caller's, plus one per input it passes (service.tf).
DERIVED_POLICIES = {"release": "read-release", "service": "write-logs"}


def _keys_passed(call: dict, for_each: str) -> set[str]:
    if for_each == "${local.all_inline_policies}":
        derived = {policy for argument, policy in DERIVED_POLICIES.items() if argument in call}
        return set(call.get("inline_policies", {})) | derived
    iterated = re.fullmatch(r"\$\{var\.(\w+)\}", for_each)
    assert iterated, for_each
    return set(call[iterated.group(1)])


# The inline policies each instance had before the shared module: moved, under the same name.
# (Policies added since are new resources.)
KEPT_POLICIES = {"api": {"read-release"}, "kafka": {"read-tls-material-and-user-secrets"}}


@pytest.mark.parametrize("module", ["api", "kafka"])
def test_an_instance_keeps_the_role_and_profile_it_had_before_the_shared_module(module) -> None:
    """The role and the profile in the state of an existing deployment move into ssm_instance:
    a plan replaces neither, nor the instances that use them."""
    config = load(MODULES / module)
    (call,) = [n for n, c in config.modules.items() if c["source"] == "../ssm_instance"]
    always = {
        (kind, name)
        for (kind, name), body in _called(config, call).resources.items()
        if "count" not in body and "for_each" not in body
    }
    assert always == {
        ("aws_iam_role", "this"),
        ("aws_iam_role_policy_attachment", "ssm"),
        ("aws_iam_instance_profile", "this"),
    }
    moved_to = {MOVED_TO.fullmatch(b["to"]).groups()[1:3] for b in config.moved}
    assert always <= moved_to
    # ...and each inline policy it had is moved, under the same name.
    assert KEPT_POLICIES[module] <= _keys_passed(
        config.modules[call],
        _called(config, call).resources[("aws_iam_role_policy", "inline")]["for_each"],
    )
    for policy in KEPT_POLICIES[module]:
        assert f'${{module.{call}.aws_iam_role_policy.inline["{policy}"]}}' in [
            b["to"] for b in config.moved
        ]


@pytest.mark.parametrize("module", module_dirs(), ids=lambda p: p.name)
def test_readme_tables_list_every_input_and_output(module: Path) -> None:
    config = load(module)
    readme = (module / "README.md").read_text()
    inputs, _, outputs = readme.partition("## Outputs")
    assert "## Inputs" in inputs, f"{module.name}/README.md has no Inputs section"
    for name, var in config.variables.items():
        row = re.search(rf"^\| `{name}` \|(.*)$", inputs, re.MULTILINE)
        assert row, f"{module.name}/README.md: input {name} is not in the Inputs table"
        # The row says what variables.tf says, word for word (a README that still listed three
        # Kafka users after a fourth was added is how this check came to be).
        cells = row.group(1).split(" | ")
        assert cells[0].strip() == var["description"], (
            f"{module.name}/README.md: input {name}'s description differs from variables.tf"
        )
        required = "default" not in var
        assert row.group(1).rstrip(" |").endswith("yes" if required else "no"), (
            f"{module.name}/README.md: input {name} should say required = "
            f"{'yes' if required else 'no'}"
        )
    for name in config.outputs:
        assert re.search(rf"^\| `{name}` \|", outputs, re.MULTILINE), (
            f"{module.name}/README.md: output {name} is not in the Outputs table"
        )
    documented = set(re.findall(r"^\| `(\w+)` \|", readme, re.MULTILINE))
    stale = documented - set(config.variables) - set(config.outputs)
    assert not stale, f"{module.name}/README.md documents what does not exist: {stale}"


def test_the_cost_table_counts_every_public_ipv4_address() -> None:
    """AWS bills each public IPv4 address: the brokers', the API instance's, the load balancer's."""
    cost = (INFRA / "README.md").read_text().split("## Cost", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in cost.splitlines() if "public IPv4" in line]
    assert any("Elastic IP" in row for row in rows)
    assert any("API instance" in row for row in rows)
    assert any("load balancer" in row for row in rows)
