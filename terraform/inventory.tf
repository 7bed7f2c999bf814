# The Ansible inventory of what was just created: inventories/cloud/hosts.yml, next to the
# committed inventories/cloud/group_vars. Then: ansible-playbook -i inventories/cloud site.yml

locals {
  inventory_path = coalesce(var.inventory_path, "${path.module}/../inventories/cloud/hosts.yml")
}

resource "local_file" "inventory" {
  filename        = local.inventory_path
  file_permission = "0644"
  content = templatefile("${path.module}/templates/inventory.yml.tftpl", {
    ssh_user        = var.ssh_user
    db_private_ip   = local.db_private_ip
    air_private_ip  = local.air_private_ip
    air_public_ip   = openstack_networking_floatingip_v2.air.address
    kubernetes_cidr = var.kubernetes_subnet_cidr == null ? "" : var.kubernetes_subnet_cidr
  })
}
