package plan

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// NewResource builds a custom resource for a hand-made plan, the way the mocks record one: its
// id is name+"-id", so other resources refer to it by that.
func NewResource(token, name string, inputs map[string]any) Resource {
	return Resource{
		URN:    fmt.Sprintf("urn:pulumi:test::%s::%s::%s", Project, token, name),
		Type:   token,
		Name:   name,
		Custom: true,
		ID:     name + "-id",
		Inputs: resource.NewPropertyMapFromMap(inputs),
	}
}

// With returns a copy with the input at a dotted path ("rules.0.status") set to v, or removed
// when v is nil; missing objects on the way are created.
func (r Resource) With(path string, v any) Resource {
	doc := r.Inputs.Mappable()
	setPath(doc, path, v, true)
	r.Inputs = resource.NewPropertyMapFromMap(doc)
	return r
}

// Of makes a plan of the given resources, for tests of rules over plans.
func Of(rs ...Resource) *Plan {
	p := &Plan{Project: Project, Stack: "test", Resources: append([]Resource(nil), rs...), Outputs: map[string]any{}}
	sort.Slice(p.Resources, func(i, j int) bool { return p.Resources[i].URN < p.Resources[j].URN })
	return p
}
