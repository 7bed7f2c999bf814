terraform {
  required_version = ">= 1.9.0"

  required_providers {
    selectel = {
      source  = "selectel/selectel"
      version = ">= 6.0.0, < 8.0.0"
    }
  }
}
