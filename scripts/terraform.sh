#!/usr/bin/env bash
# Terraform for infrastructure/terraform, with a CLI config of our own (the environment's
# TF_CLI_CONFIG_FILE is ignored): hashicorp/aws comes from the filesystem mirror in
# $TF_PLUGIN_DIR (default /opt/tf-plugins, laid out as
# registry.terraform.io/hashicorp/aws/<version>/<os_arch>/) when it holds the provider, else from
# the public registry.
#
#   scripts/terraform.sh check            fmt -check, init + validate (in build/, not the repo) against
#                                         the committed .terraform.lock.hcl (read-only), checkov
#   scripts/terraform.sh lock             refresh .terraform.lock.hcl: from $TF_PLUGIN_DIR (offline, the
#                                         platforms the mirror holds) when it holds the provider, else
#                                         from the registry for $TF_LOCK_PLATFORMS
#   scripts/terraform.sh init|plan|apply|output|destroy ...   any terraform command, run in the module
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
module=infrastructure/terraform
build=$root/build/terraform
plugin_dir=${TF_PLUGIN_DIR:-/opt/tf-plugins}
provider=registry.terraform.io/hashicorp/aws
terraform=${TERRAFORM:-terraform}

command -v "$terraform" >/dev/null || { echo "terraform not found (set TERRAFORM=/path/to/terraform)" >&2; exit 1; }
mirrored() {
    compgen -G "$plugin_dir/$provider/*/*/terraform-provider-aws*" >/dev/null
}

# No plugin cache for the module itself: `init` then links .terraform/providers to the mirror or
# downloads into .terraform, never into build/, so `terraform destroy` still works after
# `make clean`. Only `check` (a throwaway copy) caches, under build/.
mkdir -p "$build"
config=$build/terraform.rc
{
    if mirrored; then
        echo "provider_installation {"
        echo "  filesystem_mirror {"
        echo "    path    = \"$plugin_dir\""
        echo "    include = [\"$provider\"]"
        echo "  }"
        echo "  direct {"
        echo "    exclude = [\"$provider\"]"
        echo "  }"
        echo "}"
    fi
} >"$config"
export TF_CLI_CONFIG_FILE=$config CHECKPOINT_DISABLE=1

if [ "${1:-}" = "lock" ]; then
    platforms=()
    if mirrored; then
        # Only h1: hashes of what the mirror holds can be computed offline.
        for dir in "$plugin_dir/$provider"/*/*/; do platforms+=("$(basename "$dir")"); done
        source=(-fs-mirror="$plugin_dir")
        echo "==> terraform providers lock from $plugin_dir (offline): ${platforms[*]}"
    else
        read -r -a platforms <<<"${TF_LOCK_PLATFORMS:-linux_amd64 linux_arm64 darwin_amd64 darwin_arm64}"
        source=()
        echo "==> terraform providers lock from the registry: ${platforms[*]}"
    fi
    rm -f "$module/.terraform.lock.hcl"
    exec "$terraform" -chdir="$module" providers lock "${source[@]}" "${platforms[@]/#/-platform=}"
fi

if [ "${1:-}" != "check" ]; then
    exec "$terraform" -chdir="$module" "$@"
fi

echo "==> terraform fmt -check -recursive"
"$terraform" fmt -check -recursive -diff "$module"

echo "==> terraform init + validate (in a copy under build/terraform, with its own TF_DATA_DIR)"
mkdir -p "$build/plugin-cache"
export TF_PLUGIN_CACHE_DIR=$build/plugin-cache TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=1
rm -rf "$build/module"
mkdir -p "$build/module"
cp "$module"/*.tf "$module/.terraform.lock.hcl" "$build/module/"
export TF_DATA_DIR=$build/data TF_IN_AUTOMATION=1 TF_INPUT=0
# -lockfile=readonly: a provider or checksum the committed lock does not list is an error.
"$terraform" -chdir="$build/module" init -backend=false -input=false -no-color -lockfile=readonly >/dev/null
"$terraform" -chdir="$build/module" validate -no-color

echo "==> checkov"
tools=${TOOLS_VENV:-.venv-tools}
if [ ! -x "$tools/bin/checkov" ]; then
    scripts/install-tools.sh
fi
"$tools/bin/checkov" --directory "$module" --framework terraform --skip-download --compact --quiet
