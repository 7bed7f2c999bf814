# A managed Kubernetes cluster for Airflow (kubernetes/), in the platform stack's network:
# its nodes live in the Kubernetes subnet, which db01's security group lets reach PostgreSQL.

data "selectel_mks_kube_versions_v1" "available" {
  project_id = var.project_id
  region     = var.region
}

resource "selectel_mks_cluster_v1" "airflow" {
  name                              = var.cluster_name
  project_id                        = var.project_id
  region                            = var.region
  kube_version                      = coalesce(var.kube_version, data.selectel_mks_kube_versions_v1.available.latest_version)
  network_id                        = var.network_id
  subnet_id                         = var.subnet_id
  cluster_type                      = var.high_availability ? "HIGH_AVAILABILITY" : "BASIC" # replaces the deprecated zonal (provider 7.8.0)
  enable_autorepair                 = true
  enable_patch_version_auto_upgrade = var.high_availability # must be false on a basic cluster
  maintenance_window_start          = "01:00:00"

  lifecycle {
    # Upgrades are a decision, not a side effect of a newer latest_version.
    ignore_changes = [kube_version]
  }
}

resource "selectel_mks_nodegroup_v1" "general" {
  cluster_id        = selectel_mks_cluster_v1.airflow.id
  project_id        = selectel_mks_cluster_v1.airflow.project_id
  region            = selectel_mks_cluster_v1.airflow.region
  availability_zone = var.availability_zone
  nodes_count       = var.nodes_count
  cpus              = var.node_cpus
  ram_mb            = var.node_ram_mb
  volume_gb         = var.node_volume_gb
  volume_type       = "${var.node_volume_kind}.${var.availability_zone}"
  keypair_name      = var.keypair_name
  labels            = { "datatech.example/pool" = "general" }
  # Required by the provider (every 6.x to 8.x release); CPU nodes need no NVIDIA device plugin.
  install_nvidia_device_plugin = false
}

resource "selectel_mks_nodegroup_v1" "gpu" {
  count = var.gpu_flavor_id == null ? 0 : 1

  cluster_id                   = selectel_mks_cluster_v1.airflow.id
  project_id                   = selectel_mks_cluster_v1.airflow.project_id
  region                       = selectel_mks_cluster_v1.airflow.region
  availability_zone            = var.availability_zone
  nodes_count                  = var.gpu_nodes_count
  flavor_id                    = var.gpu_flavor_id
  volume_gb                    = var.node_volume_gb
  volume_type                  = "${var.node_volume_kind}.${var.availability_zone}"
  keypair_name                 = var.keypair_name
  install_nvidia_device_plugin = true
  labels                       = { "datatech.example/pool" = "gpu" }

  # Only pods that ask for a GPU (tolerating this taint) land on these nodes.
  taints {
    key    = "nvidia.com/gpu"
    value  = "present"
    effect = "NoSchedule"
  }
}

data "selectel_mks_kubeconfig_v1" "airflow" {
  cluster_id = selectel_mks_cluster_v1.airflow.id
  project_id = selectel_mks_cluster_v1.airflow.project_id
  region     = selectel_mks_cluster_v1.airflow.region
}
