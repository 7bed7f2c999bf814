# One private network: the hosts' subnet and, optionally, a subnet for Kubernetes nodes,
# both routed to the cloud's external network.

data "openstack_networking_network_v2" "external" {
  name     = var.external_network_name
  external = true
}

resource "openstack_networking_network_v2" "platform" {
  name           = "${var.name_prefix}-net"
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "hosts" {
  name            = "${var.name_prefix}-hosts"
  network_id      = openstack_networking_network_v2.platform.id
  cidr            = var.subnet_cidr
  ip_version      = 4
  dns_nameservers = var.dns_nameservers
}

resource "openstack_networking_subnet_v2" "kubernetes" {
  count = var.kubernetes_subnet_cidr == null ? 0 : 1

  name            = "${var.name_prefix}-kubernetes"
  network_id      = openstack_networking_network_v2.platform.id
  cidr            = var.kubernetes_subnet_cidr
  ip_version      = 4
  dns_nameservers = var.dns_nameservers
}

resource "openstack_networking_router_v2" "platform" {
  name                = "${var.name_prefix}-router"
  admin_state_up      = true
  external_network_id = data.openstack_networking_network_v2.external.id
}

resource "openstack_networking_router_interface_v2" "hosts" {
  router_id = openstack_networking_router_v2.platform.id
  subnet_id = openstack_networking_subnet_v2.hosts.id
}

resource "openstack_networking_router_interface_v2" "kubernetes" {
  count = var.kubernetes_subnet_cidr == null ? 0 : 1

  router_id = openstack_networking_router_v2.platform.id
  subnet_id = openstack_networking_subnet_v2.kubernetes[0].id
}
