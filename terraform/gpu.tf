# db01 gets a GPU (PG-Strom): its flavour's extra specs must request one. The same rule as
# tools/gpu_flavor.py (tests/infra runs both over the same cases): a PCI passthrough alias
# with a count of 1 or more ("pci_passthrough:alias" = "a100:1,..."), or a vGPU resource of
# 1 or more ("resources:VGPU", "resources1:VGPU" = "1"). A name or a trait is not a GPU
# ("cpu-only-nogpu", "trait:CUSTOM_GPU" = "forbidden").
#
# gpu_extra_spec_check = false skips the lookup itself (count 0), for clouds that refuse to
# show extra specs to a project user; the name check (variable db_flavor_name) still runs.
data "openstack_compute_flavor_v2" "db" {
  count = var.gpu_extra_spec_check ? 1 : 0
  name  = var.db_flavor_name

  lifecycle {
    postcondition {
      condition = length(concat(
        [for entry in split(",", lookup(self.extra_specs, "pci_passthrough:alias", "")) : entry
        if length(regexall("^\\s*[^:\\s]+\\s*:\\s*[0-9]*[1-9][0-9]*\\s*$", entry)) > 0],
        [for key, value in self.extra_specs : key
        if length(regexall("^resources[0-9]*(_[A-Za-z0-9_-]+)?:VGPU$", key)) > 0 && length(regexall("^[0-9]*[1-9][0-9]*$", trimspace(value))) > 0],
      )) > 0
      error_message = "Flavor ${var.db_flavor_name} requests no GPU in its extra specs (a pci_passthrough:alias with a count, or resources:VGPU). Choose a GPU flavor, or set gpu_extra_spec_check = false if this cloud hides extra specs."
    }
  }
}
