#!/usr/bin/env bash
# Builds the pinned CLIs into .tools/ at the repository root, once: a binary that is already there
# is reused. Packer and its Amazon plugin come from tools/go.mod, the linters from
# tools/lint/go.mod (apart, so neither dependency tree moves the other). Then installs the Amazon
# plugin where Packer looks for it, and Mermaid's parser (tools/mermaid) into .tools/mermaid.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.tools/bin
export PACKER_PLUGIN_PATH=$root/.tools/packer-plugins
mkdir -p "$bin" "$PACKER_PLUGIN_PATH"
cd "$root/tools"

build() { # build NAME PACKAGE (from the module in the working directory)
	if [[ -x $bin/$1 ]]; then
		return
	fi
	echo "tools/build.sh: building $1 (once; a few minutes)" >&2
	go build -trimpath -o "$bin/$1.tmp" "$2"
	mv "$bin/$1.tmp" "$bin/$1"
}
build packer github.com/hashicorp/packer
build packer-plugin-amazon github.com/hashicorp/packer-plugin-amazon
(
	cd lint
	build golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint
	build actionlint github.com/rhysd/actionlint/cmd/actionlint
)

(
	cd vm
	build ec2-metadata-mock github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock
)

if ! "$bin/packer" plugins installed 2>/dev/null | grep -q 'github.com/hashicorp/amazon'; then
	"$bin/packer" plugins install --path "$bin/packer-plugin-amazon" github.com/hashicorp/amazon >&2
fi

# Mermaid's own parser checks the diagrams cmd/synth prints. package-lock.json pins every package
# to an exact version and its sha512; npm ci installs exactly that and refuses a tarball whose
# hash differs. The install is reused until the lock changes; a failed one leaves none behind.
mermaid=$root/.tools/mermaid
if ! cmp -s "$root/tools/mermaid/package-lock.json" "$mermaid/package-lock.json"; then
	echo "tools/build.sh: installing Mermaid's parser (npm ci; seconds)" >&2
	rm -rf "$mermaid.tmp"
	mkdir -p "$mermaid.tmp"
	cp "$root/tools/mermaid/package.json" "$root/tools/mermaid/package-lock.json" "$mermaid.tmp/"
	(cd "$mermaid.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
	rm -rf "$mermaid"
	mv "$mermaid.tmp" "$mermaid"
fi
