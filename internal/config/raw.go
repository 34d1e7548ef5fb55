package config

import (
	"encoding/json"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Raw returns every config key of the stack with its value. The Go SDK has no call that
// lists keys, so the key set comes from PULUMI_CONFIG, the variable through which the Pulumi
// language host hands a Go program its config (and the mock harness does the same); values
// are read through the context.
func Raw(ctx *pulumi.Context) map[string]string {
	var env map[string]string
	_ = json.Unmarshal([]byte(os.Getenv(pulumi.EnvConfig)), &env) // absent or malformed: no keys, so required keys are reported
	raw := make(map[string]string, len(env))
	for k := range env {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
		}
	}
	return raw
}
