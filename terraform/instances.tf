# db01 (GPU flavor, private address only) and air01 (floating IP, the SSH jump host),
# both booted from a Debian volume, with the addresses inventories/production uses, each
# with an SSH host key made here (host_keys.tf).

locals {
  db_private_ip  = cidrhost(var.subnet_cidr, 10)
  air_private_ip = cidrhost(var.subnet_cidr, 20)
}

data "openstack_images_image_v2" "debian" {
  name        = var.image_name
  most_recent = true
}

resource "openstack_compute_keypair_v2" "deploy" {
  name       = "${var.name_prefix}-deploy"
  public_key = var.ssh_public_key
}

resource "openstack_networking_port_v2" "db" {
  name               = "${var.name_prefix}-db01"
  network_id         = openstack_networking_network_v2.platform.id
  admin_state_up     = true
  security_group_ids = [openstack_networking_secgroup_v2.db.id]

  fixed_ip {
    subnet_id  = openstack_networking_subnet_v2.hosts.id
    ip_address = local.db_private_ip
  }
}

resource "openstack_networking_port_v2" "air" {
  name               = "${var.name_prefix}-air01"
  network_id         = openstack_networking_network_v2.platform.id
  admin_state_up     = true
  security_group_ids = [openstack_networking_secgroup_v2.airflow.id]

  fixed_ip {
    subnet_id  = openstack_networking_subnet_v2.hosts.id
    ip_address = local.air_private_ip
  }
}

resource "openstack_compute_instance_v2" "db" {
  name              = "${var.name_prefix}-db01"
  flavor_name       = var.db_flavor_name
  key_pair          = openstack_compute_keypair_v2.deploy.name
  availability_zone = var.availability_zone
  metadata          = { role = "db", inventory_hostname = "db01" }
  user_data         = local.host_key_user_data["db01"]

  block_device {
    uuid                  = data.openstack_images_image_v2.debian.id
    source_type           = "image"
    destination_type      = "volume"
    volume_size           = var.db_volume_size
    volume_type           = var.volume_type
    boot_index            = 0
    delete_on_termination = true # system only: the database is on db_data (db_volume.tf)
  }

  network {
    port = openstack_networking_port_v2.db.id
  }

  lifecycle {
    # A newer image must not rebuild the database host; any other change of the boot volume
    # (its size) shows in the plan. PostgreSQL's data is on its own volume (db_volume.tf).
    # Nor a change of user_data, which cloud-init reads at the first boot only (host_keys.tf).
    ignore_changes = [block_device[0].uuid, user_data]
  }

  # The flavour's GPU check (gpu.tf) passes before db01 is made.
  depends_on = [openstack_networking_router_interface_v2.hosts, data.openstack_compute_flavor_v2.db]
}

resource "openstack_compute_instance_v2" "air" {
  name              = "${var.name_prefix}-air01"
  flavor_name       = var.air_flavor_name
  key_pair          = openstack_compute_keypair_v2.deploy.name
  availability_zone = var.availability_zone
  metadata          = { role = "airflow", inventory_hostname = "air01" }
  user_data         = local.host_key_user_data["air01"]

  block_device {
    uuid                  = data.openstack_images_image_v2.debian.id
    source_type           = "image"
    destination_type      = "volume"
    volume_size           = var.air_volume_size
    volume_type           = var.volume_type
    boot_index            = 0
    delete_on_termination = true
  }

  network {
    port = openstack_networking_port_v2.air.id
  }

  lifecycle {
    ignore_changes = [block_device, user_data]
  }

  depends_on = [openstack_networking_router_interface_v2.hosts]
}

resource "openstack_networking_floatingip_v2" "air" {
  pool        = var.external_network_name
  description = "${var.name_prefix}-air01"
}

resource "openstack_networking_floatingip_associate_v2" "air" {
  floating_ip = openstack_networking_floatingip_v2.air.address
  port_id     = openstack_networking_port_v2.air.id

  depends_on = [openstack_networking_router_interface_v2.hosts]
}
