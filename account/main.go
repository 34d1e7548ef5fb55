// Command account prepares an AWS account for immutable-edge, once, run by an administrator
// (package setup is the program; docs/deploying.md says when and how). The main program's
// workflows then run with no stored AWS keys.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/account/setup"
)

func main() { pulumi.Run(setup.Deploy) }
