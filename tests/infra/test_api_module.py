"""The API's module: its first-boot script rendered by Terraform, and its security read off the
parsed configuration."""

from __future__ import annotations

from pathlib import Path

from tests.infra.hcl import INFRA, MODULES, load, one
from tests.infra.services import heredoc, render_service

API = load(MODULES / "api")
ROOT = load(INFRA)
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - the instance listens for its load balancer
SECRET = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:lakestream-api/api-key-AbCdEf"


def render(terraform_bin: str, workdir: Path) -> str:
    environment = {
        "LAKESTREAM_TARGET": "aws",
        "AWS_REGION": "eu-west-3",
        "LAKESTREAM_BUCKET_SUFFIX": "-acme",
        "API_KEY": f"secretsmanager:{SECRET}",
        "API_ENGINE": "athena",
        "API_HOST": ANY_ADDRESS,
        "API_PORT": "8000",
        "API_ALLOWED_HOSTS": "lsapi-123.eu-west-3.elb.amazonaws.com,api.example.com",
    }
    (unit,) = API.modules["instance"]["service"]["units"]
    assert unit["command"] == "-m athena_api serve"
    return render_service(terraform_bin, workdir, "lakestream-api", environment, [unit])


def test_first_boot_installs_the_checked_release_and_runs_gunicorn(terraform_bin, tmp_path) -> None:
    script = render(terraform_bin, tmp_path / "api")
    assert (
        's3 cp "s3://kafka-ing-athena-results-acme/releases/lakestream-0123456789abcdef.zip"'
        in script
    )
    assert f'echo "{"ab" * 32}  $work/release.zip" | sha256sum --check --strict' in script
    # The locked set with its hashes, then the project from the release; nothing unpinned.
    installs = [line for line in script.replace("\\\n", " ").splitlines() if "pip install" in line]
    assert len(installs) == 2, installs
    locked, project = (" ".join(line.split()) for line in installs)
    assert "--no-deps --require-hashes --only-binary=:all:" in locked
    assert locked.endswith('-r "$work/src/tools/production.txt"')
    assert "--no-deps --no-build-isolation --no-index" in project
    assert project.endswith('"$work/src"')
    assert "--upgrade" not in script
    env = heredoc(script, "/etc/lakestream/lakestream-api.env", "ENV")
    values = dict(line.split("=", 1) for line in env.splitlines())
    assert values["API_KEY"] == f"secretsmanager:{SECRET}"  # a reference, not the key
    assert values["API_ENGINE"] == "athena"
    assert values["API_HOST"] == ANY_ADDRESS
    assert values["LAKESTREAM_TARGET"] == "aws"
    unit = heredoc(script, "/etc/systemd/system/lakestream-api.service", "UNIT")
    assert "User=lakestream" in unit
    assert "EnvironmentFile=/etc/lakestream/lakestream-api.env" in unit
    assert "Restart=on-failure" in unit
    assert "ExecStart=/opt/lakestream/venv/bin/python -m athena_api serve" in unit
    assert "systemctl enable --now lakestream-api.service" in script
    assert "chmod 0640 /etc/lakestream/lakestream-api.env" in script
    assert values["LAKESTREAM_METRICS_EMF"] == "tcp://127.0.0.1:25888"  # the agent's EMF port
    assert values["LAKESTREAM_LOG_FORMAT"] == "json"


def test_the_module_passes_no_secret_and_no_kafka_setting_to_the_instance() -> None:
    assert API.of_type("aws_instance")["api"]["user_data"] == "${module.instance.user_data}"
    user_data = API.modules["instance"]["service"]["environment"]
    assert "secretsmanager:${aws_secretsmanager_secret.api_key.arn}" in user_data
    assert "random_password" not in user_data
    version = API.of_type("aws_secretsmanager_secret_version")["api_key"]
    assert "secret_string" not in version
    assert "ephemeral.random_password.api_key" in version["secret_string_wo"]
    settings = ROOT.modules["api"]["settings"]
    assert '!startswith(k, "KAFKA_")' in settings
    assert ROOT.modules["api"]["policy_arns"] == ['${aws_iam_policy.stage["api"].arn}']


def test_the_instance_is_reached_through_the_load_balancer_and_ssm_only() -> None:
    instance = API.of_type("aws_instance")["api"]
    metadata = one(instance["metadata_options"])
    assert metadata["http_tokens"] == "required"
    assert one(instance["root_block_device"])["encrypted"] is True
    assert "key_name" not in instance
    ingress = API.of_type("aws_vpc_security_group_ingress_rule")
    assert ingress["instance"]["referenced_security_group_id"] == "${aws_security_group.lb.id}"
    assert "cidr_ipv4" not in ingress["instance"]
    # The load balancer: the allowed CIDRs on 443 (and 80) with a certificate, 80 without.
    assert "var.allowed_cidrs" in ingress["lb"]["for_each"]
    assert "local.https ? [443, 80] : [80]" in ingress["lb"]["for_each"]
    conditions = " ".join(v["condition"] for v in API.variables["allowed_cidrs"]["validation"])
    assert "/0$" in conditions
    # The shared SSM-only role (ssm_instance): the API stage's policy, and reading its release.
    role = API.modules["instance"]
    assert role["source"] == "../ssm_instance"
    assert role["policy_arns"] == "${var.policy_arns}"
    assert "inline_policies" not in role  # its release's and its logs' are ssm_instance's
    assert role["release"] == "${var.release}"
    assert instance["iam_instance_profile"] == "${module.instance.instance_profile_name}"


def test_https_uses_a_modern_policy_and_http_only_redirects_with_a_certificate() -> None:
    listeners = API.of_type("aws_lb_listener")
    https = listeners["https"]
    assert https["count"] == "${local.https ? 1 : 0}"
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["certificate_arn"] == "${var.certificate_arn}"
    action = one(listeners["http"]["default_action"])
    assert action["type"] == '${local.https ? "redirect" : "forward"}'
    redirect = one(one(action["dynamic"])["redirect"]["content"])
    assert (redirect["protocol"], redirect["status_code"]) == ("HTTPS", "HTTP_301")
    lb = API.of_type("aws_lb")["api"]
    assert lb["drop_invalid_header_fields"] is True
    # The probe costs no Athena query: a static file.
    probe = one(API.of_type("aws_lb_target_group")["api"]["health_check"])
    assert probe["path"] == "${local.health_path}"
    assert API.locals["health_path"].startswith("/static/")


def test_the_health_probe_file_exists() -> None:
    path = API.locals["health_path"].removeprefix("/static/")
    assert (INFRA.parent / "athena_api" / "dashboard" / "static" / path).is_file()


def test_the_instance_is_replaced_new_first_and_never_by_a_newly_published_ami() -> None:
    """A new AL2023 AMI is published every few weeks: it must not replace a running instance."""
    instance = API.of_type("aws_instance")["api"]
    lifecycle = one(instance["lifecycle"])
    assert lifecycle["create_before_destroy"] is True
    assert "ami" in lifecycle["ignore_changes"]
    attachment = API.of_type("aws_lb_target_group_attachment")["api"]
    assert one(attachment["lifecycle"])["create_before_destroy"] is True
