output "air01_public_ip" {
  description = "Floating IP of air01: SSH (jump host to db01) and, where allowed, the Airflow UI."
  value       = openstack_networking_floatingip_v2.air.address
}

output "air01_private_ip" {
  description = "Address of air01 on the hosts' subnet."
  value       = local.air_private_ip
}

output "db01_private_ip" {
  description = "Address of db01 on the hosts' subnet (PostgreSQL, port 5432): the DB host for Airflow on Kubernetes too."
  value       = local.db_private_ip
}

output "db01_data_volume_id" {
  description = "Volume of db01's PostgreSQL data; in the guest /dev/disk/by-id/virtio-<its first 20 characters>."
  value       = openstack_blockstorage_volume_v3.db_data.id
}

output "inventory_path" {
  description = "The Ansible inventory written for site.yml."
  value       = local_file.inventory.filename
}

output "known_hosts" {
  description = "The hosts' SSH host keys as known_hosts lines (also written beside the inventory): the pipeline's SSH_KNOWN_HOSTS."
  value       = local.known_hosts
}

output "network_id" {
  description = "Private network (terraform/selectel-mks takes it as network_id)."
  value       = openstack_networking_network_v2.platform.id
}

output "kubernetes_subnet_id" {
  description = "Subnet for Kubernetes nodes (terraform/selectel-mks takes it as subnet_id); null without kubernetes_subnet_cidr."
  value       = one(openstack_networking_subnet_v2.kubernetes[*].id)
}

output "next_step" {
  description = "What to run once the hosts are up."
  value       = "ansible-playbook -i inventories/cloud site.yml --ask-vault-pass"
}
