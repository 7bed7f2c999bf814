# Terraform 1.9 or newer: variable validations refer to other variables
# (db_flavor_name is checked against gpu_flavor_patterns).
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = ">= 3.0.0, < 4.0.0"
    }
    local = {
      source  = "hashicorp/local"
      version = ">= 2.5.0, < 3.0.0"
    }
    # The hosts' SSH host keys (ED25519 needs 4.0).
    tls = {
      source  = "hashicorp/tls"
      version = ">= 4.0.0, < 5.0.0"
    }
  }
}
