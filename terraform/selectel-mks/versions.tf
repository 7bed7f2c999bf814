terraform {
  required_version = ">= 1.9.0"

  required_providers {
    # 8.2.2 at least: cluster_type (which replaces the deprecated zonal) exists since 7.8.0,
    # 8.1.1 fixed a perpetual diff on clusters moving from zonal to cluster_type, and 8.2.2
    # fixed enable_patch_version_auto_upgrade = false being ignored on HA clusters.
    selectel = {
      source  = "selectel/selectel"
      version = ">= 8.2.2, < 9.0.0"
    }
  }
}
