output "cluster_id" {
  description = "Managed Kubernetes cluster ID."
  value       = selectel_mks_cluster_v1.airflow.id
}

output "kube_api_ip" {
  description = "Address of the Kubernetes API."
  value       = selectel_mks_cluster_v1.airflow.kube_api_ip
}

output "kubeconfig" {
  description = "kubeconfig of the cluster: terraform output -raw kubeconfig > kubeconfig (store it as the CI file variable KUBECONFIG)."
  value       = data.selectel_mks_kubeconfig_v1.airflow.raw_config
  sensitive   = true
}
