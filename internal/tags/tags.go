// Package tags turns the stack's tag map into the Pulumi inputs every taggable resource carries.
package tags

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Named copies the stack tags and adds Name, so the console shows what each resource is.
func Named(stack map[string]string, name string) pulumi.StringMap {
	m := pulumi.StringMap{"Name": pulumi.String(name)}
	for k, v := range stack {
		m[k] = pulumi.String(v)
	}
	return m
}
