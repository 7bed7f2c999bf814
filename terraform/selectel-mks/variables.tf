# Inputs of the optional Selectel Managed Kubernetes cluster. network_id and subnet_id are
# outputs of the platform stack (terraform/), applied first with kubernetes_subnet_cidr set.

variable "selectel_account_id" {
  description = "Selectel account ID (the number at the top right of the control panel)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.selectel_account_id))
    error_message = "selectel_account_id is the numeric Selectel account ID."
  }
}

variable "selectel_username" {
  description = "Selectel service user with the member role in the project."
  type        = string
}

variable "selectel_password" {
  description = "Password of the Selectel service user."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.selectel_password) >= 8
    error_message = "selectel_password looks empty or truncated."
  }
}

variable "selectel_auth_url" {
  description = "Keystone endpoint of Selectel's cloud."
  type        = string
  default     = "https://cloud.api.selcloud.ru/identity/v3/"

  validation {
    condition     = startswith(var.selectel_auth_url, "https://")
    error_message = "selectel_auth_url must be an https URL."
  }
}

variable "project_id" {
  description = "Selectel cloud project (the same project as the platform stack)."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.project_id))
    error_message = "project_id is the 32-hex-digit Selectel project ID."
  }
}

variable "region" {
  description = "Pool of the cluster, e.g. ru-7 (the platform stack's region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}-[0-9]+$", var.region))
    error_message = "region is a Selectel pool such as ru-7."
  }
}

variable "availability_zone" {
  description = "Pool segment of the node groups, e.g. ru-7a."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}-[0-9]+[a-z]$", var.availability_zone))
    error_message = "availability_zone is a pool segment such as ru-7a."
  }
}

variable "network_id" {
  description = "Private network of the platform stack (terraform output network_id)."
  type        = string
}

variable "subnet_id" {
  description = "Kubernetes subnet of the platform stack (terraform output kubernetes_subnet_id); db01 accepts PostgreSQL from it."
  type        = string
}

variable "cluster_name" {
  description = "Name of the cluster."
  type        = string
  default     = "mlops-airflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.cluster_name))
    error_message = "cluster_name: 3 to 31 lowercase letters, digits or dashes."
  }
}

variable "kube_version" {
  description = "Kubernetes version; null: the latest one Selectel offers at creation."
  type        = string
  default     = null
}

variable "high_availability" {
  description = "Three control-plane nodes (true) or one (false, a basic cluster)."
  type        = bool
  default     = true
}

variable "nodes_count" {
  description = "Nodes of the general node group (Airflow components and CPU tasks)."
  type        = number
  default     = 3

  validation {
    condition     = var.nodes_count >= 1 && var.nodes_count <= 15
    error_message = "nodes_count must be between 1 and 15 (a Selectel node group's limit)."
  }
}

variable "node_cpus" {
  description = "vCPUs of each general node."
  type        = number
  default     = 4

  validation {
    condition     = var.node_cpus >= 2
    error_message = "node_cpus must be at least 2."
  }
}

variable "node_ram_mb" {
  description = "RAM of each general node in MB."
  type        = number
  default     = 16384

  validation {
    condition     = var.node_ram_mb >= 4096
    error_message = "node_ram_mb must be at least 4096."
  }
}

variable "node_volume_gb" {
  description = "Boot volume of each node in GB."
  type        = number
  default     = 64

  validation {
    condition     = var.node_volume_gb >= 32
    error_message = "node_volume_gb must be at least 32."
  }
}

variable "node_volume_kind" {
  description = "Volume kind of the nodes: fast, universal or basic (the pool segment is appended)."
  type        = string
  default     = "fast"

  validation {
    condition     = contains(["fast", "universal", "basic"], var.node_volume_kind)
    error_message = "node_volume_kind must be fast, universal or basic."
  }
}

variable "gpu_flavor_id" {
  description = "OpenStack flavor ID of an optional GPU node group for training tasks (tainted nvidia.com/gpu); null: no GPU node group."
  type        = string
  default     = null
}

variable "gpu_nodes_count" {
  description = "Nodes of the GPU node group (when gpu_flavor_id is set)."
  type        = number
  default     = 1

  validation {
    condition     = var.gpu_nodes_count >= 1 && var.gpu_nodes_count <= 15
    error_message = "gpu_nodes_count must be between 1 and 15."
  }
}

variable "keypair_name" {
  description = "OpenStack key pair installed on the nodes (the platform stack's <prefix>-deploy); null: none."
  type        = string
  default     = null
}
