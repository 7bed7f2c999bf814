# Every input of the platform stack. Values for one cloud: terraform.tfvars (see
# terraform.tfvars.example). No secret has a default; this stack takes none at all:
# OpenStack credentials come from clouds.yaml or the OS_* environment.

variable "openstack_cloud" {
  description = "Entry of clouds.yaml to use; null: the OS_* environment variables (openrc)."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name (network, security groups, instances)."
  type        = string
  default     = "mlops"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name_prefix))
    error_message = "name_prefix: 2 to 20 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "availability_zone" {
  description = "Availability zone (Selectel: pool segment such as ru-7a); null: the cloud's default."
  type        = string
  default     = null
}

variable "external_network_name" {
  description = "Name of the cloud's external network: router gateway and floating IP pool."
  type        = string

  validation {
    condition     = length(trimspace(var.external_network_name)) > 0
    error_message = "external_network_name must name the cloud's external network."
  }
}

variable "subnet_cidr" {
  description = "Subnet of db01 and air01 (db01 takes host 10, air01 host 20, as in inventories/production)."
  type        = string
  default     = "10.20.0.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 20)) && try(tonumber(split("/", var.subnet_cidr)[1]) <= 27, false)
    error_message = "subnet_cidr must be an IPv4 CIDR of /27 or larger."
  }
}

variable "kubernetes_subnet_cidr" {
  description = "Subnet for a Kubernetes cluster's nodes (terraform/selectel-mks or your own); PostgreSQL is open to it. null: no cluster subnet."
  type        = string
  default     = null

  validation {
    condition     = var.kubernetes_subnet_cidr == null || can(cidrhost(var.kubernetes_subnet_cidr, 1))
    error_message = "kubernetes_subnet_cidr must be null or an IPv4 CIDR."
  }
}

variable "dns_nameservers" {
  description = "DNS servers handed out on the subnets."
  type        = list(string)
  default     = ["1.1.1.1", "8.8.8.8"]

  validation {
    condition     = alltrue([for ip in var.dns_nameservers : can(cidrhost("${ip}/32", 0))])
    error_message = "dns_nameservers must be IPv4 addresses."
  }
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH on air01 (db01 only through air01). Never the whole internet."
  type        = list(string)

  validation {
    condition     = length(var.ssh_allowed_cidrs) > 0 && alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "ssh_allowed_cidrs must list at least one CIDR."
  }

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "ssh_allowed_cidrs must not open SSH to the whole internet (0.0.0.0/0 or ::/0)."
  }
}

variable "airflow_ui_allowed_cidrs" {
  description = "Networks allowed to reach the Airflow API server/UI on air01:8080. Empty: reach it through an SSH tunnel."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.airflow_ui_allowed_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "airflow_ui_allowed_cidrs must be CIDRs, never the whole internet."
  }
}

variable "ssh_public_key" {
  description = "Public key installed for ssh_user on both hosts (the deploy key Ansible uses)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key (ssh-ed25519, ssh-rsa or ecdsa)."
  }
}

variable "ssh_user" {
  description = "Login user of the image (Debian cloud images: debian); Ansible's ansible_user."
  type        = string
  default     = "debian"
}

variable "image_name" {
  description = "Debian 12 image of the cloud, by name (the roles support Debian 12 and 13)."
  type        = string

  validation {
    condition     = can(regex("(?i)debian", var.image_name))
    error_message = "image_name must name a Debian image: the roles support Debian 12 and 13."
  }
}

variable "volume_type" {
  description = "Block storage type of the boot volumes (Selectel: fast.ru-7a, ...); null: the cloud's default."
  type        = string
  default     = null
}

variable "gpu_flavor_patterns" {
  description = "Regular expressions (RE2) of the flavor names that carry a GPU; db01's flavor must match one."
  type        = list(string)
  default = [
    "(?i)(^|[^a-z])gpu", # GPU, 1GPU, gpu.1x..., not nogpu
    "(?i)(tesla|a100|h100|h200|l40s|a40|a30|a10|v100|rtx)",
  ]

  validation {
    condition     = length(var.gpu_flavor_patterns) > 0 && alltrue([for p in var.gpu_flavor_patterns : can(regexall(p, ""))])
    error_message = "gpu_flavor_patterns must hold at least one valid regular expression."
  }
}

variable "db_flavor_name" {
  description = "Flavor of db01: a GPU flavor (PG-Strom). Mandatory; a flavor without a GPU is refused."
  type        = string

  validation {
    condition     = anytrue([for p in var.gpu_flavor_patterns : length(regexall(p, var.db_flavor_name)) > 0])
    error_message = "db_flavor_name must be a GPU flavor (its name must match one of gpu_flavor_patterns): db01 runs PostgreSQL with PG-Strom on a GPU."
  }
}

variable "gpu_extra_spec_check" {
  description = "Also require a GPU in the flavor's extra specs (a pci_passthrough:alias with a count, or resources:VGPU) before creating db01; false skips the flavor lookup, where the cloud hides extra specs."
  type        = bool
  default     = true
}

variable "db_volume_size" {
  description = "Boot volume of db01 in GB (system, packages, logs); PostgreSQL's data is on db_data_volume_size."
  type        = number
  default     = 50

  validation {
    condition     = var.db_volume_size >= 20
    error_message = "db_volume_size must be at least 20 GB."
  }
}

variable "db_data_volume_size" {
  description = "db01's data volume in GB: PostgreSQL's data directory, kept when db01 is replaced (prevent_destroy)."
  type        = number
  default     = 200

  validation {
    condition     = var.db_data_volume_size >= 50
    error_message = "db_data_volume_size must be at least 50 GB."
  }
}

variable "air_flavor_name" {
  description = "Flavor of air01 (Airflow api-server, scheduler, dag-processor, triggerer): 4 vCPU and 8 GB or more."
  type        = string

  validation {
    condition     = length(trimspace(var.air_flavor_name)) > 0
    error_message = "air_flavor_name must name a flavor."
  }
}

variable "air_volume_size" {
  description = "Boot volume of air01 in GB."
  type        = number
  default     = 50

  validation {
    condition     = var.air_volume_size >= 20
    error_message = "air_volume_size must be at least 20 GB."
  }
}

variable "inventory_path" {
  description = "Where to write the Ansible inventory; null: inventories/cloud/hosts.yml of this repository."
  type        = string
  default     = null
}
