# Credentials never live here: the provider reads clouds.yaml (entry var.openstack_cloud)
# or the OS_* variables of the openrc file the cloud's panel gives (Selectel, Immers Cloud).
provider "openstack" {
  cloud = var.openstack_cloud
}
