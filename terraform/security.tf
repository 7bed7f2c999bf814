# Who reaches what. air01: SSH from ssh_allowed_cidrs, the UI from airflow_ui_allowed_cidrs.
# db01: no public address; SSH from air01 (the jump host), PostgreSQL from air01 and from
# the Kubernetes subnet only. Egress stays open (apt, PyPI, the GPU driver repository).

locals {
  ssh_rules = { for c in var.ssh_allowed_cidrs : c => strcontains(c, ":") ? "IPv6" : "IPv4" }
  ui_rules  = { for c in var.airflow_ui_allowed_cidrs : c => strcontains(c, ":") ? "IPv6" : "IPv4" }
}

resource "openstack_networking_secgroup_v2" "airflow" {
  name        = "${var.name_prefix}-airflow"
  description = "air01: SSH from the operators' networks, Airflow UI from the allowed networks"
}

resource "openstack_networking_secgroup_v2" "db" {
  name        = "${var.name_prefix}-db"
  description = "db01: SSH and PostgreSQL from air01, PostgreSQL from the Kubernetes nodes"
}

resource "openstack_networking_secgroup_rule_v2" "airflow_ssh" {
  for_each = local.ssh_rules

  description       = "SSH from ${each.key}"
  direction         = "ingress"
  ethertype         = each.value
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = each.key
  security_group_id = openstack_networking_secgroup_v2.airflow.id
}

resource "openstack_networking_secgroup_rule_v2" "airflow_ui" {
  for_each = local.ui_rules

  description       = "Airflow UI and API over HTTPS (nginx) from ${each.key}"
  direction         = "ingress"
  ethertype         = each.value
  protocol          = "tcp"
  port_range_min    = 443
  port_range_max    = 443
  remote_ip_prefix  = each.key
  security_group_id = openstack_networking_secgroup_v2.airflow.id
}

resource "openstack_networking_secgroup_rule_v2" "mlflow_ui" {
  for_each = local.ui_rules

  description       = "MLflow UI and API over HTTPS (nginx) from ${each.key}"
  direction         = "ingress"
  ethertype         = each.value
  protocol          = "tcp"
  port_range_min    = 5443
  port_range_max    = 5443
  remote_ip_prefix  = each.key
  security_group_id = openstack_networking_secgroup_v2.airflow.id
}

resource "openstack_networking_secgroup_rule_v2" "db_ssh_from_airflow" {
  description       = "SSH from air01 (Ansible jumps through it)"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_group_id   = openstack_networking_secgroup_v2.airflow.id
  security_group_id = openstack_networking_secgroup_v2.db.id
}

resource "openstack_networking_secgroup_rule_v2" "db_postgresql_from_airflow" {
  description       = "PostgreSQL from air01"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 5432
  port_range_max    = 5432
  remote_group_id   = openstack_networking_secgroup_v2.airflow.id
  security_group_id = openstack_networking_secgroup_v2.db.id
}

resource "openstack_networking_secgroup_rule_v2" "db_postgresql_from_kubernetes" {
  count = var.kubernetes_subnet_cidr == null ? 0 : 1

  description       = "PostgreSQL from the Kubernetes nodes (Airflow on Kubernetes)"
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 5432
  port_range_max    = 5432
  remote_ip_prefix  = var.kubernetes_subnet_cidr
  security_group_id = openstack_networking_secgroup_v2.db.id
}
