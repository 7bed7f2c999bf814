#!/usr/bin/env bash
# Renders the Secret templates (kubernetes/secrets/*.yaml) from the environment: each
# ${NAME} becomes the base64 of $NAME. Refuses an unset or empty variable. Writes YAML to
# stdout only, for `kubectl apply -f -`; no secret touches the disk.
#   bash kubernetes/scripts/render-secrets.sh [TEMPLATE_DIR] | kubectl apply -f -
set -euo pipefail

dir=${1:-"$(dirname "${BASH_SOURCE[0]}")/../secrets"}
missing=()
out=""
for template in "$dir"/*.yaml; do
  content=$(<"$template")
  # shellcheck disable=SC2016 # the literal ${NAME} placeholders
  mapfile -t names < <(grep -v '^[[:space:]]*#' "$template" | grep -o '\${[A-Z][A-Z0-9_]*}' | tr -d '${}' | sort -u)
  for name in "${names[@]}"; do
    if [[ -z ${!name:-} ]]; then
      missing+=("$name")
      continue
    fi
    value=${!name}
    # A PEM key (the git-sync deploy key) needs its final newline; CI variables often lose it.
    [[ $value == -----BEGIN* && $value != *$'\n' ]] && value+=$'\n'
    value=$(printf '%s' "$value" | base64 | tr -d '\n')
    content=${content//"\${$name}"/"$value"}
  done
  out+="$content"$'\n'
done

if ((${#missing[@]})); then
  echo "render-secrets: not set: ${missing[*]}" >&2
  exit 1
fi
printf '%s' "$out"
