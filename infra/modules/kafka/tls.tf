# The brokers' TLS: a private CA (the module's own, or the ACM Private CA in var.ca_arn) signs one
# certificate per broker. Every certificate carries the same subject, CN=<name>-broker: that is
# the principal a broker presents on the mutually authenticated INTERNAL and CONTROLLER
# listeners, and the one super user besides the admin role (user_data.sh.tftpl).
#
# A broker reads its key and certificate from Parameter Store at first boot (never from the user
# data, which anyone allowed to describe the instance can read); clients verify the brokers
# against the CA bundle published at <name>/ca-bundle (`make env` writes it to kafka-ca.pem).

locals {
  own_ca           = var.ca_arn == null
  broker_principal = "${var.name}-broker"
  parameter_prefix = "/${var.name}"
  ca_bundle = local.own_ca ? tls_self_signed_cert.ca[0].cert_pem : join("\n", compact([
    data.aws_acmpca_certificate_authority.given[0].certificate,
    data.aws_acmpca_certificate_authority.given[0].certificate_chain,
  ]))
  broker_certificates = local.own_ca ? tls_locally_signed_cert.broker[*].cert_pem : [
    for cert in aws_acmpca_certificate.broker : "${cert.certificate}\n${cert.certificate_chain}"
  ]
}

# --- the CA --------------------------------------------------------------------------------------

resource "tls_private_key" "ca" {
  count = local.own_ca ? 1 : 0

  algorithm   = "ECDSA"
  ecdsa_curve = "P384"
}

resource "tls_self_signed_cert" "ca" {
  count = local.own_ca ? 1 : 0

  private_key_pem       = tls_private_key.ca[0].private_key_pem
  is_ca_certificate     = true
  validity_period_hours = 10 * 365 * 24
  allowed_uses          = ["cert_signing", "crl_signing", "digital_signature"]

  subject {
    common_name  = "${var.name} private CA"
    organization = "lakestream"
  }
}

data "aws_acmpca_certificate_authority" "given" {
  count = local.own_ca ? 0 : 1

  arn = var.ca_arn
}

# --- one certificate per broker -------------------------------------------------------------------

resource "tls_private_key" "broker" {
  count = var.broker_count

  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

# Names clients and brokers connect to: the public DNS name and address with public_access, the
# private address (replication, the controller quorum, in-VPC clients) and private DNS name.
resource "tls_cert_request" "broker" {
  count = var.broker_count

  private_key_pem = tls_private_key.broker[count.index].private_key_pem
  dns_names = compact([
    var.public_access ? aws_eip.broker[count.index].public_dns : "",
    aws_network_interface.broker[count.index].private_dns_name,
  ])
  ip_addresses = compact([
    aws_network_interface.broker[count.index].private_ip,
    var.public_access ? aws_eip.broker[count.index].public_ip : "",
  ])

  subject {
    common_name = local.broker_principal
  }
}

resource "tls_locally_signed_cert" "broker" {
  count = local.own_ca ? var.broker_count : 0

  cert_request_pem      = tls_cert_request.broker[count.index].cert_request_pem
  ca_private_key_pem    = tls_private_key.ca[0].private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca[0].cert_pem
  validity_period_hours = var.certificate_validity_days * 24
  early_renewal_hours   = 30 * 24
  # Server for clients, client for the other brokers' INTERNAL and CONTROLLER listeners.
  allowed_uses = ["digital_signature", "key_encipherment", "server_auth", "client_auth"]
}

resource "aws_acmpca_certificate" "broker" {
  count = local.own_ca ? 0 : var.broker_count

  certificate_authority_arn   = var.ca_arn
  certificate_signing_request = tls_cert_request.broker[count.index].cert_request_pem
  signing_algorithm           = var.ca_signing_algorithm
  # EndEntityCertificate carries both serverAuth and clientAuth, as the brokers need.
  template_arn = "arn:${data.aws_partition.current.partition}:acm-pca:::template/EndEntityCertificate/V1"

  validity {
    type  = "DAYS"
    value = var.certificate_validity_days
  }
}

# --- Parameter Store: the CA bundle for everyone, each broker's key for the brokers --------------

resource "aws_ssm_parameter" "ca_bundle" {
  #checkov:skip=CKV2_AWS_34:The CA bundle is a public certificate that every client needs; encrypting it would only make clients need kms:Decrypt.
  name        = "${local.parameter_prefix}/ca-bundle"
  description = "PEM bundle of the CA that signs the ${var.name} broker certificates (KAFKA_SSL_CAFILE)"
  type        = "String"
  tier        = "Intelligent-Tiering" # standard (free) while it fits in 4 KB, as one or two certificates do
  value       = local.ca_bundle
  tags        = local.tags
}

resource "aws_ssm_parameter" "broker_certificate" {
  #checkov:skip=CKV2_AWS_34:A certificate is public: every client sees it in the TLS handshake.
  count = var.broker_count

  name        = "${local.parameter_prefix}/broker-${count.index + 1}/certificate"
  description = "TLS certificate (and chain) of ${var.name} node ${count.index + 1}"
  type        = "String"
  tier        = "Intelligent-Tiering"
  value       = local.broker_certificates[count.index]
  tags        = local.tags
}

resource "aws_ssm_parameter" "broker_key" {
  count = var.broker_count

  name        = "${local.parameter_prefix}/broker-${count.index + 1}/private-key"
  description = "TLS private key (PKCS#8) of ${var.name} node ${count.index + 1}"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = tls_private_key.broker[count.index].private_key_pem_pkcs8
  tags        = local.tags
}
