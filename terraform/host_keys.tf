# Each host's SSH host key, made here rather than on the host's first boot: Terraform knows
# the public half before the host exists and writes it into known_hosts.txt beside the
# inventory (inventory.tf), so Ansible checks the host from the very first connection (no
# trust on first use). cloud-init installs the pair and deletes the image's keys; it
# generates no other key when ssh_keys is given, so sshd offers this key only.
#
# The private halves are in the Terraform state (tls_private_key keeps them there): the
# state backend must be encrypted and readable only by those who may run apply
# (README.md, backend.tf.example). They are also in the instances' user data, which the
# cloud's metadata service hands to any process on that host.

resource "tls_private_key" "host" {
  for_each = toset(["db01", "air01"])

  algorithm = "ED25519"
}

locals {
  host_key_user_data = {
    for name, key in tls_private_key.host : name => join("\n", ["#cloud-config", yamlencode({
      ssh_deletekeys = true
      ssh_keys = {
        ed25519_private = key.private_key_openssh
        ed25519_public  = trimspace(key.public_key_openssh)
      }
    })])
  }
}
