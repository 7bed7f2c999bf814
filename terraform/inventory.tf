# The Ansible inventory of what was just created: inventories/cloud/hosts.yml, next to the
# committed inventories/cloud/group_vars, and the hosts' SSH keys beside it in
# known_hosts.txt (.txt: Ansible reads every other file of an inventory folder as inventory).
# Then: ansible-playbook -i inventories/cloud site.yml

locals {
  inventory_path   = coalesce(var.inventory_path, "${path.module}/../inventories/cloud/hosts.yml")
  known_hosts_path = abspath("${dirname(local.inventory_path)}/known_hosts.txt")
  known_hosts = templatefile("${path.module}/templates/known_hosts.tftpl", {
    db_private_ip  = local.db_private_ip
    air_private_ip = local.air_private_ip
    air_public_ip  = openstack_networking_floatingip_v2.air.address
    db_host_key    = trimspace(tls_private_key.host["db01"].public_key_openssh)
    air_host_key   = trimspace(tls_private_key.host["air01"].public_key_openssh)
  })
}

resource "local_file" "known_hosts" {
  filename        = local.known_hosts_path
  file_permission = "0644"
  content         = local.known_hosts
}

resource "local_file" "inventory" {
  filename        = local.inventory_path
  file_permission = "0644"
  content = templatefile("${path.module}/templates/inventory.yml.tftpl", {
    ssh_user         = var.ssh_user
    db_private_ip    = local.db_private_ip
    air_private_ip   = local.air_private_ip
    air_public_ip    = openstack_networking_floatingip_v2.air.address
    kubernetes_cidr  = var.kubernetes_subnet_cidr == null ? "" : var.kubernetes_subnet_cidr
    known_hosts_path = local_file.known_hosts.filename
    # The name the guest gives the data volume whatever order the disks attach in: virtio
    # shows the volume id, cut to 20 characters, as the disk's serial (udev's by-id link).
    # The attachment's own `device` (/dev/vdb) is only Nova's guess, not what the guest uses.
    # Read through the attachment, so the inventory is written once the volume is attached.
    db_data_device = "/dev/disk/by-id/virtio-${substr(openstack_compute_volume_attach_v2.db_data.volume_id, 0, 20)}"
  })
}
