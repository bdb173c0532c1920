"""`lakestream env`: Terraform's settings output becomes .env, checked, without losing lines."""

from __future__ import annotations

import json
import re
import stat

import pytest

from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings
from orchestration.cli import main
from orchestration.envfile import merge_env, parse_settings, settings_variables, write_env
from tests.infra.hcl import INFRA, load, terraform

OUTPUT = {
    "LAKESTREAM_TARGET": "aws",
    "AWS_REGION": "eu-west-3",
    "KAFKA_BOOTSTRAP_SERVERS": "ec2-203-0-113-7.eu-west-3.compute.amazonaws.com:9092",
    "LAKESTREAM_BUCKET_SUFFIX": "-acme-dev",
    "LAKESTREAM_GLUE_DATABASE": "kafka_ing",
    "LAKESTREAM_ATHENA_WORKGROUP": "lakestream",
    "LAKESTREAM_ATHENA_RESULTS_BUCKET": "kafka-ing-athena-results",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in settings_variables() | {"AWS_ENDPOINT_URL"}:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_written_file_points_the_tools_at_the_provisioned_resources(tmp_path) -> None:
    path = tmp_path / ".env"
    changes = write_env(path, parse_settings(json.dumps(OUTPUT)))
    assert len(changes) == len(OUTPUT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = Settings(_env_file=path)
    assert settings.target == "aws"
    assert settings.aws_endpoint_url is None  # real AWS, boto3's own endpoints
    assert settings.kafka_servers == [("ec2-203-0-113-7.eu-west-3.compute.amazonaws.com", 9092)]
    transactions = settings.datasets.get("transactions")
    assert settings.bucket(transactions) == "kafka-ing-transactions-acme-dev"
    assert settings.athena_output_location == "s3://kafka-ing-athena-results-acme-dev/results/"
    assert settings.athena_workgroup == "lakestream"


def test_other_lines_survive_and_a_rerun_changes_nothing(tmp_path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# my settings\nAPI_KEY=s3cret\nexport LAKESTREAM_BUCKET_SUFFIX=-old\n"
        "LAKESTREAM_BUCKET_SUFFIX=-older\nAPI_DEBUG=0\n"
    )
    path.chmod(0o640)
    changes = write_env(path, OUTPUT)
    text = path.read_text()
    assert text.startswith("# my settings\nAPI_KEY=s3cret\nLAKESTREAM_BUCKET_SUFFIX=-acme-dev\n")
    assert "-old" not in text
    assert "API_DEBUG=0" in text
    assert "updated LAKESTREAM_BUCKET_SUFFIX" in changes
    assert "removed a second LAKESTREAM_BUCKET_SUFFIX line" in changes
    assert text.count("KAFKA_BOOTSTRAP_SERVERS=") == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the file's own mode is kept
    assert write_env(path, OUTPUT) == []
    assert path.read_text() == text


def test_values_that_need_quoting_are_quoted() -> None:
    text, _ = merge_env("", {"LAKESTREAM_CATALOG": "/home/me/my lake/datasets.yaml"})
    assert 'LAKESTREAM_CATALOG="/home/me/my lake/datasets.yaml"' in text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not JSON"),
        ("{}", "non-empty JSON object"),
        ('["a"]', "non-empty JSON object"),
        (json.dumps({**OUTPUT, "DATABASE_URL": "x"}), "does not read: ['DATABASE_URL']"),
        (json.dumps({**OUTPUT, "AWS_REGION": 3}), "['AWS_REGION'] are not strings"),
        (json.dumps({**OUTPUT, "KAFKA_BOOTSTRAP_SERVERS": "broker"}), "is not host:port"),
        (json.dumps({**OUTPUT, "LAKESTREAM_TARGET": "gcp"}), "not valid"),
    ],
)
def test_bad_outputs_are_refused_with_a_reason(document, message) -> None:
    with pytest.raises(LakestreamError, match=re.escape(message)):
        parse_settings(document)


def test_root_output_names_only_variables_lakestream_reads() -> None:
    root = load(INFRA)
    assert root.outputs["lakestream_settings"]["value"] == "${local.lakestream_settings}"
    expression = root.locals["lakestream_settings"]
    names = set(re.findall(r"\b([A-Z][A-Z0-9_]+) =", expression))
    assert names >= set(OUTPUT)
    assert names <= settings_variables()


def test_cli_reads_the_output_from_terraform_state(terraform_bin, tmp_path, capsys) -> None:
    workdir = tmp_path / "tf"
    workdir.mkdir()
    value = ", ".join(f'{k} = "{v}"' for k, v in OUTPUT.items())
    (workdir / "main.tf").write_text(
        f'output "lakestream_settings" {{\n  value = {{ {value} }}\n}}\n'
    )
    # Before apply there is no state: the message says what to do.
    env_file = tmp_path / ".env"
    assert main(["env", "--terraform-dir", str(workdir), "--output", str(env_file)]) == 2
    assert "run `terraform apply` there first" in capsys.readouterr().err
    terraform(terraform_bin, workdir, "init", "-input=false", "-backend=false")
    terraform(terraform_bin, workdir, "apply", "-auto-approve", "-input=false")
    assert main(["env", "--terraform-dir", str(workdir), "--output", str(env_file)]) == 0
    assert "7 change(s)" in capsys.readouterr().out
    assert Settings(_env_file=env_file).bucket_suffix == "-acme-dev"
    assert main(["env", "--terraform-dir", str(workdir), "--output", str(env_file)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_cli_from_json_file_and_missing_file(tmp_path, capsys) -> None:
    source = tmp_path / "out.json"
    source.write_text(json.dumps(OUTPUT))
    assert main(["env", "--from-json", str(source), "--output", str(tmp_path / ".env")]) == 0
    assert main(["env", "--from-json", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


# --- Kafka's credentials and CA: referred to and written, never copied ----------------------

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
SECRETS = {
    user: f"arn:aws:secretsmanager:eu-west-3:123456789012:secret:lakestream-kafka/users/{user}-Ab"
    for user in ("producers", "sink", "admin")
}


def all_outputs(**settings: str) -> str:
    """`terraform output -json` of a deployment with SASL_SSL brokers."""
    values = {
        **OUTPUT,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    }
    return json.dumps(
        {
            "lakestream_settings": {"sensitive": False, "value": {**values, **settings}},
            "kafka_user_secrets": {"sensitive": False, "value": SECRETS},
            "kafka_ca_bundle": {"sensitive": False, "value": CA},
            "glue_database": {"sensitive": False, "value": "kafka_ing"},
        }
    )


def test_kafka_password_is_a_reference_to_the_chosen_users_secret(tmp_path, capsys) -> None:
    source, env_file = tmp_path / "outputs.json", tmp_path / ".env"
    source.write_text(all_outputs())
    assert main(["env", "--from-json", str(source), "--output", str(env_file)]) == 0
    assert "Kafka user: producers" in capsys.readouterr().out
    text = env_file.read_text()
    assert f"KAFKA_SASL_PASSWORD=secretsmanager:{SECRETS['producers']}" in text
    settings = Settings(_env_file=env_file)
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_secret == SECRETS["producers"]
    # The CA bundle is public: written beside .env, readable, and named by KAFKA_SSL_CAFILE.
    ca_file = tmp_path / "kafka-ca.pem"
    assert ca_file.read_text() == CA
    assert stat.S_IMODE(ca_file.stat().st_mode) == 0o644
    assert settings.kafka_ssl_cafile == ca_file.resolve()
    # Another user: only the reference changes.
    assert (
        main(["env", "--from-json", str(source), "--output", str(env_file), "--kafka-user", "sink"])
        == 0
    )
    assert "• updated KAFKA_SASL_PASSWORD" in capsys.readouterr().err
    assert Settings(_env_file=env_file).kafka_sasl_secret == SECRETS["sink"]


def test_an_unknown_kafka_user_is_refused_with_the_known_ones(tmp_path, capsys) -> None:
    source = tmp_path / "outputs.json"
    source.write_text(all_outputs())
    assert main(["env", "--from-json", str(source), "--kafka-user", "notebooks"]) == 2
    err = capsys.readouterr().err
    assert "no Kafka user 'notebooks' (its users: admin, producers, sink)" in err
    assert not (tmp_path / ".env").exists()


def test_root_outputs_what_make_env_reads() -> None:
    root = load(INFRA)
    assert root.outputs["kafka_user_secrets"]["value"] == "${module.kafka.user_secret_arns}"
    assert root.outputs["kafka_ca_bundle"]["value"] == "${module.kafka.ca_bundle}"
    settings = root.locals["lakestream_settings"]
    assert "KAFKA_SECURITY_PROTOCOL = module.kafka.security_protocol" in settings
    assert 'KAFKA_SASL_MECHANISM = "SCRAM-SHA-512"' in settings
    assert "KAFKA_SASL_PASSWORD" not in settings  # a reference is chosen per user by `make env`


def test_make_env_takes_the_kafka_outputs_from_terraform_state(
    terraform_bin, tmp_path, capsys
) -> None:
    workdir = tmp_path / "tf"
    workdir.mkdir()
    settings = {
        **OUTPUT,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    }
    (workdir / "main.tf").write_text(
        f'output "lakestream_settings" {{\n  value = {json.dumps(settings)}\n}}\n'
        f'output "kafka_user_secrets" {{\n  value = {json.dumps(SECRETS)}\n}}\n'
        f'output "kafka_ca_bundle" {{\n  value = {json.dumps(CA)}\n}}\n'
    )
    terraform(terraform_bin, workdir, "init", "-input=false", "-backend=false")
    terraform(terraform_bin, workdir, "apply", "-auto-approve", "-input=false")
    env_file = tmp_path / ".env"
    argv = [
        "env",
        "--terraform-dir",
        str(workdir),
        "--output",
        str(env_file),
        "--kafka-user",
        "admin",
    ]
    assert main(argv) == 0
    assert "wrote the brokers' CA bundle" in capsys.readouterr().err
    written = Settings(_env_file=env_file)
    assert written.kafka_sasl_secret == SECRETS["admin"]
    assert written.kafka_ssl_cafile.read_text() == CA
    # The password stays in Secrets Manager: .env holds where it is.
    assert f"KAFKA_SASL_PASSWORD=secretsmanager:{SECRETS['admin']}\n" in env_file.read_text()
