//go:build tools

// Package tools pins the programs the boot tests run beside a VM (images/local), apart from
// tools/go.mod so neither dependency tree moves the other.
package tools

import (
	_ "github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock"
)
