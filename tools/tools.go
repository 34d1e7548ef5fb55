//go:build tools

// Package tools pins, by exact version, the CLIs the checks build: Packer and its Amazon plugin.
// tools/build.sh builds them once into ../.tools/bin (git-ignored) and reuses them.
package tools

import (
	_ "github.com/hashicorp/packer"
	_ "github.com/hashicorp/packer-plugin-amazon"
)
