"""The sink and curation as services on AWS: the root's wiring, their first-boot script rendered
by Terraform and run with stand-ins for the machine's tools, their units checked by systemd's own
`systemd-analyze verify`, and the alarms' metrics against what the Python side sends."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA, MODULES, load, one
from tests.infra.services import RELEASE, heredoc, render_service

ROOT = load(INFRA)
MONITORING = load(MODULES / "monitoring")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
BASH = shutil.which("bash") or "/bin/bash"
SETTINGS = {"LAKESTREAM_TARGET": "aws", "AWS_REGION": "eu-west-3"}


def _units(service: str) -> list[dict]:
    """The root's units of a service, with the schedules its variables default to."""
    units = []
    for unit in ROOT.modules[service]["service"]["units"]:
        schedule = unit.get("schedule")
        if schedule and (var := re.fullmatch(r"\$\{var\.(\w+)\}", schedule)):
            unit = {**unit, "schedule": ROOT.variables[var.group(1)]["default"]}
        units.append(unit)
    return units


def _render(terraform_bin, workdir: Path, service: str, release: dict = RELEASE) -> str:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    files = {"/etc/lakestream/kafka-ca.pem": pem}
    return render_service(
        terraform_bin, workdir, f"lakestream-{service}", SETTINGS, _units(service), files, release
    )


# --- the root's wiring ------------------------------------------------------------------------


def test_each_service_runs_as_its_kafka_user_with_its_stage_policy() -> None:
    for service in ("sink", "curation"):
        call = ROOT.modules[service]
        assert call["source"] == "./modules/service_group"
        assert call["component"] == service
        assert call["policy_arns"][0] == f'${{aws_iam_policy.stage["{service}"].arn}}'
        assert call["release"] == "${local.release}"
        assert call["service"]["environment"] == f'${{local.kafka_client["{service}"]}}'
    client = ROOT.locals["kafka_client"]
    # The password is a reference to the user's own secret, read by the client at start.
    assert 'KAFKA_SASL_PASSWORD = "secretsmanager:${module.kafka.user_secret_arns[user]}"' in client
    assert "KAFKA_SSL_CAFILE" in client
    # The laptop's catalog path means nothing on an instance: the release packages its catalog.
    assert 'k != "LAKESTREAM_CATALOG"' in ROOT.locals["service_settings"]
    assert len(ROOT.modules["sink"]["policy_arns"]) == 1
    # Curation's instance also runs the first crawls (glue crawl --missing).
    assert ROOT.modules["curation"]["policy_arns"][1] == '${aws_iam_policy.stage["crawl"].arn}'
    assert ROOT.modules["sink"]["instance_count"] == "${var.sink_count}"
    assert ROOT.modules["curation"]["instance_count"] == "${var.curation_enabled ? 1 : 0}"


def test_the_sink_drains_on_sigterm_and_curation_never_runs_two_passes_at_once() -> None:
    (sink,) = _units("sink")
    assert sink["command"].startswith("-m consumers")
    assert "schedule" not in sink or sink["schedule"] is None  # a service, restarted on failure
    assert sink["stop_timeout_seconds"] >= 60  # time to write and commit the open batches
    curation, crawl, maintain = _units("curation")
    assert crawl["command"] == "-m glue crawl --missing"
    assert crawl["schedule"] == "*:0/10"
    assert curation["command"].startswith("-m curation")
    assert maintain["command"].startswith("-m curation maintain")
    assert curation["lock"] == maintain["lock"]  # one flock: never at once
    assert (curation["schedule"], maintain["schedule"]) == ("*:0/5", "daily")


# --- the first boot, rendered and run -------------------------------------------------------------


@pytest.mark.parametrize("service", ["sink", "curation"])
def test_the_units_are_what_systemd_accepts(terraform_bin, tmp_path, service) -> None:
    if SYSTEMD_ANALYZE is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    script = _render(terraform_bin, tmp_path / "tf", service)
    folder = tmp_path / "units"
    folder.mkdir()
    names = re.findall(r"cat > /etc/systemd/system/(\S+) <<'UNIT'", script)
    assert names
    for name in names:
        text = heredoc(script, f"/etc/systemd/system/{name}", "UNIT")
        # verify checks that ExecStart's program exists: this interpreter stands in for the venv's.
        text = text.replace("/opt/lakestream/venv/bin/python", sys.executable)
        (folder / name).write_text(text + "\n")
    checked = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *sorted(str(p) for p in folder.iterdir())],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (checked.returncode, checked.stderr) == (0, ""), checked.stderr
    for unit in _units(service):
        if unit.get("schedule"):
            calendar = subprocess.run(
                [SYSTEMD_ANALYZE, "calendar", unit["schedule"]],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert calendar.returncode == 0, calendar.stderr


STUBS = {
    # What first boot calls besides the shell's own tools, each recording its arguments.
    "dnf": "exit 0",
    "id": "exit 1",  # no such user yet
    "useradd": "exit 0",
    "chown": "exit 0",
    "systemctl": "exit 0",
    "aws": 'cp "$RELEASE_ZIP" "${@: -1}"',  # aws --region R s3 cp SRC DEST
    "install": 'while [ $# -gt 0 ]; do case "$1" in -o|-g|-m) shift 2 ;; -d) shift ;; '
    '*) mkdir -p "$1"; shift ;; esac; done',
    "python3.11": 'mkdir -p "$3/bin"; printf \'#!/bin/bash\\necho "pip $*" >> "$CALLS"\\n\' '
    '> "$3/bin/pip"; chmod +x "$3/bin/pip"',
}


def _machine(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A root folder for the script's paths, stand-ins on PATH, and a release zip."""
    root, bin_dir = tmp_path / "machine", tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f'#!/bin/bash\necho "{name} $*" >> "$CALLS"\n{body}\n')
        (bin_dir / name).chmod(0o755)
    # What Amazon Linux and the packages dnf installs provide.
    for folder in (
        "etc/systemd/system",
        "etc/logrotate.d",
        "var/log",
        "opt/aws/amazon-cloudwatch-agent/etc",
        "opt/aws/amazon-cloudwatch-agent/bin",
    ):
        (root / folder).mkdir(parents=True)  # fmt: skip
    agent = root / "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
    agent.write_text('#!/bin/bash\necho "agent-ctl $*" >> "$CALLS"\n')
    agent.chmod(0o755)
    release = tmp_path / "release.zip"
    with zipfile.ZipFile(release, "w") as archive:
        archive.writestr("tools/production.txt", "six==1.16.0 --hash=sha256:00\n")
        archive.writestr("pyproject.toml", "[project]\nname = 'lakestream'\n")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
        "RELEASE_ZIP": str(release),
    }
    return root, env


def _run(script: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The script with its absolute paths under `root`, as root would run it at first boot."""
    script = re.sub(r"(?<![\w/.-])/(etc|opt|var)/", lambda m: f"{root}{m.group(0)}", script)
    (root.parent / "first_boot.sh").write_text(script)
    return subprocess.run(
        [BASH, str(root.parent / "first_boot.sh")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_first_boot_installs_the_release_writes_the_units_and_starts_the_agent(
    terraform_bin, tmp_path
) -> None:
    root, env = _machine(tmp_path)
    sha = hashlib.sha256(Path(env["RELEASE_ZIP"]).read_bytes()).hexdigest()
    script = _render(terraform_bin, tmp_path / "tf", "curation", {**RELEASE, "sha256": sha})
    ran = _run(script, root, env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    calls = Path(env["CALLS"]).read_text().splitlines()
    pips = [c for c in calls if c.startswith("pip install")]
    assert len(pips) == 2
    assert "--require-hashes --only-binary=:all:" in pips[0]
    settings = dict(
        line.split("=", 1)
        for line in (root / "etc/lakestream/lakestream-curation.env").read_text().splitlines()
    )
    assert settings["LAKESTREAM_METRICS_EMF"] == "tcp://127.0.0.1:25888"
    assert settings["LAKESTREAM_METRICS_LOG_GROUP"] == "/lakestream/lakestream-curation"
    assert settings["LAKESTREAM_LOG_FORMAT"] == "json"
    assert (root / "etc/lakestream/kafka-ca.pem").read_text().startswith("-----BEGIN")
    units = root / "etc/systemd/system"
    assert sorted(p.name for p in units.iterdir()) == [
        "lakestream-crawl.service", "lakestream-crawl.timer",
        "lakestream-curation.service", "lakestream-curation.timer",
        "lakestream-maintain.service", "lakestream-maintain.timer",
    ]  # fmt: skip
    service = (units / "lakestream-curation.service").read_text()
    assert "Type=oneshot" in service
    assert f"ExecStart=/usr/bin/flock {root}/var/lib/lakestream/curation.lock " in service
    assert "[Install]" not in service  # its timer starts it, not the boot
    # The timers start, never the passes themselves; the agent takes its configuration.
    assert [c for c in calls if c.startswith("systemctl enable")] == [
        "systemctl enable --now lakestream-curation.timer",
        "systemctl enable --now lakestream-crawl.timer",
        "systemctl enable --now lakestream-maintain.timer",
    ]
    (ctl,) = [c for c in calls if c.startswith("agent-ctl")]
    assert "-a fetch-config -m ec2 -s" in ctl
    agent = json.loads((root / "opt/aws/amazon-cloudwatch-agent/etc/lakestream.json").read_text())
    shipped = agent["logs"]["logs_collected"]["files"]["collect_list"]
    assert {f["log_group_name"] for f in shipped} == {"/lakestream/lakestream-curation"}
    assert {Path(f["file_path"]).name for f in shipped} == {
        "lakestream-curation.log", "lakestream-crawl.log", "lakestream-maintain.log"
    }  # fmt: skip
    assert agent["logs"]["metrics_collected"] == {"emf": {}}


def test_a_release_that_is_not_the_one_planned_installs_nothing(terraform_bin, tmp_path) -> None:
    root, env = _machine(tmp_path)
    script = _render(terraform_bin, tmp_path / "tf", "sink", {**RELEASE, "sha256": "0" * 64})
    ran = _run(script, root, env)
    assert ran.returncode != 0
    assert "FAILED" in ran.stdout + ran.stderr  # sha256sum --check's verdict
    calls = Path(env["CALLS"]).read_text()
    assert "pip install" not in calls
    assert "systemctl enable" not in calls


# --- the alarms watch what the services send ---------------------------------------------------


def _emitted() -> set[tuple[str, frozenset[str]]]:
    """(metric, dimension names) of every series the sink and curation send to CloudWatch."""
    from prometheus_client import CollectorRegistry

    from consumers import metrics as sink
    from curation import metrics as curation
    from lakestream.core.metrics import EmfExporter

    registry = CollectorRegistry()
    for module in (sink, curation):
        for metric in vars(module).values():
            if hasattr(metric, "_labelnames") and hasattr(metric, "collect"):
                registry.register(_Fresh(metric))
    docs = EmfExporter(lambda _l: None, {"Deployment": "lakestream"}, registry=registry).documents()
    return {
        (m["Name"], frozenset(dims))
        for doc in docs
        for directive in doc["_aws"]["CloudWatchMetrics"]
        for m in directive["Metrics"]
        for dims in directive["Dimensions"]
    }


class _Fresh:
    """A metric of the real module with one sample per label (whatever the process counted)."""

    def __init__(self, metric) -> None:
        self.metric = metric

    def collect(self):
        for family in self.metric.collect():
            labels = {name: "x" for name in self.metric._labelnames}
            for sample in family.samples:
                sample.labels.update(labels)
            if not family.samples:
                from prometheus_client.samples import Sample

                suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_count", "_sum"]}
                family.samples = [
                    Sample(family.name + s, labels, 1.0) for s in suffixes[family.type]
                ]
            yield family


SPEC = re.compile(
    r'description = "((?:[^"\\]|\\.)*)"\s*\n'
    r'\s*metric\s*=\s*"(\w+)"\s*\n'
    r"\s*dimensions\s*=\s*\{([^}]*)\}"
)


def _service_alarm_specs() -> list[tuple[str, str, frozenset[str]]]:
    """(description, metric, dimension names) of each entry of the module's alarm table: the
    one `aws_cloudwatch_metric_alarm.service` adds `Deployment` to every entry's dimensions."""
    text = (MODULES / "monitoring" / "main.tf").read_text()
    return [
        (description, metric, frozenset({"Deployment", *re.findall(r"(\w+)\s*=", dims)}))
        for description, metric, dims in SPEC.findall(text)
    ]


def test_every_service_alarm_watches_a_metric_and_dimensions_the_services_send() -> None:
    emitted = _emitted()
    specs = _service_alarm_specs()
    assert {metric for _, metric, _ in specs} == {
        "sink_consumer_lag", "sink_up", "sink_dead_letters",
        "curation_lag", "curation_pass_seconds_count", "curation_dead_letters",
    }  # fmt: skip
    for _, metric, dims in specs:
        assert (metric, dims) in emitted, (metric, sorted(dims))
    service = MONITORING.of_type("aws_cloudwatch_metric_alarm")["service"]
    assert service["namespace"] == "${local.namespace}"
    assert service["dimensions"].replace(" ", "") == (
        "${merge({Deployment=var.deployment},each.value.dimensions)}"
    )


def test_every_alarm_says_what_to_look_at_first_and_notifies_the_topic() -> None:
    alarms = MONITORING.of_type("aws_cloudwatch_metric_alarm")
    assert set(alarms) == {"service", "sink_down", "api_5xx", "api_unhealthy", "broker_disk"}
    for name, alarm in alarms.items():
        if name != "service":
            assert "Look first at" in alarm["alarm_description"], name
        assert alarm["alarm_actions"] == "${local.actions}", name
    for description, metric, _ in _service_alarm_specs():
        assert "Look first at" in description, metric
    assert MONITORING.locals["actions"] == ["${aws_sns_topic.alarms.arn}"]
    topic = MONITORING.of_type("aws_sns_topic")["alarms"]
    assert topic["kms_master_key_id"] == "${var.kms_key_arn}"
    # The lake's key lets CloudWatch publish to the encrypted topic, and Logs write the groups.
    key = ROOT.data[("aws_iam_policy_document", "lake_key")]["statement"]
    sids = {s.get("sid"): s for s in key}
    assert one(sids["AlarmTopicEncryption"]["principals"])["identifiers"] == [
        "cloudwatch.amazonaws.com"
    ]
    logs = one(sids["CrawlerLogsEncryption"]["condition"])["values"]
    assert any("log-group:/lakestream/*" in v for v in logs)
    disk = alarms["broker_disk"]
    assert disk["metric_name"] == "broker_disk_used_percent"
    assert set(disk["dimensions"]) == {"InstanceId", "path", "fstype"}
    kafka = load(MODULES / "kafka")
    assert "broker_disk_used_percent" in kafka.locals["agent_config"]
    assert kafka.locals["data_path"] == "/var/lib/kafka/data"
