# Selectel's own API (Managed Kubernetes is not an OpenStack service). The service user's
# password comes from TF_VAR_selectel_password or a CI variable, never from a file.
provider "selectel" {
  domain_name = var.selectel_account_id
  username    = var.selectel_username
  password    = var.selectel_password
  auth_region = var.region
  auth_url    = var.selectel_auth_url
}
