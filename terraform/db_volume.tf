# PostgreSQL's data on its own block-storage volume, not on db01's boot volume: replacing the
# instance (another availability zone or network, `-replace`, a bigger boot volume) boots a
# fresh system and attaches this same volume again, instead of leaving the old boot volume
# detached outside the state and starting on an empty one. prevent_destroy: Terraform refuses
# any plan that would delete it (remove the line on purpose to drop the data).
# The guest sees it as /dev/disk/by-id/virtio-<first 20 characters of its id>; it is
# the generated inventory gives that path to the postgresql role (postgresql_data_volume_device),
# which formats it once and mounts it at the data directory's parent (output db01_data_volume_id).
resource "openstack_blockstorage_volume_v3" "db_data" {
  name              = "${var.name_prefix}-db01-data"
  description       = "PostgreSQL data of ${var.name_prefix}-db01"
  size              = var.db_data_volume_size
  volume_type       = var.volume_type
  availability_zone = var.availability_zone

  lifecycle {
    prevent_destroy = true
  }
}

resource "openstack_compute_volume_attach_v2" "db_data" {
  instance_id = openstack_compute_instance_v2.db.id
  volume_id   = openstack_blockstorage_volume_v3.db_data.id
}
