// Command immutable-edge is the Pulumi program: run it with `pulumi up` per stack.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/stack"
)

func main() { pulumi.Run(stack.Deploy) }
