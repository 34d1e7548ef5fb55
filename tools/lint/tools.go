//go:build tools

// Package lint pins, by exact version, the linters the checks run: golangci-lint for the Go code
// and actionlint for the GitHub workflows. They live apart from Packer's module so neither
// dependency tree moves the other. ../build.sh builds them once into ../../.tools/bin.
package lint

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
