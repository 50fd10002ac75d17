#!/usr/bin/env bash
# Terraform for infrastructure/terraform, with a CLI config of our own (the environment's
# TF_CLI_CONFIG_FILE is ignored): hashicorp/aws comes from the filesystem mirror in
# $TF_PLUGIN_DIR (default /opt/tf-plugins, laid out as
# registry.terraform.io/hashicorp/aws/<version>/<os_arch>/) when it holds the provider, else from
# the public registry.
#
#   scripts/terraform.sh check            fmt -check, init + validate (in build/, not the repo), checkov
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
# No plugin cache for the module itself: `init` then links .terraform/providers to the mirror or
# downloads into .terraform, never into build/, so `terraform destroy` still works after
# `make clean`. Only `check` (a throwaway copy) caches, under build/.
mkdir -p "$build"
config=$build/terraform.rc
{
    if compgen -G "$plugin_dir/$provider/*/*/terraform-provider-aws*" >/dev/null; then
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
cp "$module"/*.tf "$build/module/"
export TF_DATA_DIR=$build/data TF_IN_AUTOMATION=1 TF_INPUT=0
"$terraform" -chdir="$build/module" init -backend=false -input=false -no-color >/dev/null
"$terraform" -chdir="$build/module" validate -no-color

echo "==> checkov"
tools=${TOOLS_VENV:-.venv-tools}
if [ ! -x "$tools/bin/checkov" ]; then
    scripts/install-tools.sh
fi
"$tools/bin/checkov" --directory "$module" --framework terraform --skip-download --compact --quiet
