// Package plan runs the Pulumi program under recording mocks and returns what it would create:
// every resource with its type, name, URN, parent, dependencies and inputs, plus the stack
// outputs. It needs no cloud account; it is the one harness every program test goes through.
package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Resource is one registered resource (custom or component).
type Resource struct {
	URN       string
	Type      string // Pulumi type token, e.g. aws:ec2/launchTemplate:LaunchTemplate
	Name      string // logical name
	Parent    string // parent URN; the stack's URN for top-level components
	DependsOn []string
	Custom    bool // false for component resources
	Protect   bool // pulumi.Protect: destroy refuses to delete it
	// IgnoreChanges are the input paths pulumi.IgnoreChanges leaves at their value from creation.
	IgnoreChanges []string
	// DeleteBeforeReplace is set when a replacement deletes first (Pulumi's default creates first).
	DeleteBeforeReplace bool
	ID                  string               // the id the mocked provider gave it; other resources' inputs refer to it
	Region              string               // where it is created: the stack's region unless an explicit provider says otherwise
	Inputs              resource.PropertyMap // as registered, camelCase names of the provider schema
}

// Plan is what one run of the program registered.
type Plan struct {
	Project, Stack string
	Resources      []Resource // sorted by URN
	Reads          []Read     // every data source the program called, sorted
	Outputs        map[string]any
	Config         Config // the raw stack config the plan was made from
}

// Read is one data source call (an invoke): what the program asked and what the account answered.
type Read struct {
	Token  string         `json:"token"` // e.g. aws:ssm/getParameter:getParameter
	Args   map[string]any `json:"args"`
	Result map[string]any `json:"result"`
}

// OfType returns the resources of one type token, in URN order.
func (p *Plan) OfType(token string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Type == token {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource of a type and logical name.
func (p *Plan) Find(token, name string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.Type == token && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// ByID returns the custom resource with a provider id, as other resources' inputs refer to it.
func (p *Plan) ByID(id string) (Resource, bool) {
	for _, r := range p.Resources {
		if r.Custom && r.ID == id {
			return r, true
		}
	}
	return Resource{}, false
}

// CommandWith returns the pulumi-command command whose environment sets key to value (the
// rollout of a launch template: ROLLOUT_TEMPLATE_ID). An empty value finds nothing.
func (p *Plan) CommandWith(key, value string) (Resource, bool) {
	if value == "" {
		return Resource{}, false
	}
	for _, c := range p.OfType("command:local:Command") {
		if c.Str("environment."+key) == value {
			return c, true
		}
	}
	return Resource{}, false
}

// ScalingPolicies returns the Auto Scaling policies attached to a group: those naming the
// group's name (its name input, or its prefix plus the suffix AWS adds).
func (p *Plan) ScalingPolicies(group Resource) []Resource {
	var out []Resource
	for _, pol := range p.OfType("aws:autoscaling/policy:Policy") {
		if name := group.GivenName(); name != "" && pol.Str("autoscalingGroupName") == name {
			out = append(out, pol)
		}
	}
	return out
}

// ByURN returns the resource with a URN.
func (p *Plan) ByURN(urn string) (Resource, bool) {
	i := sort.Search(len(p.Resources), func(i int) bool { return p.Resources[i].URN >= urn })
	if i < len(p.Resources) && p.Resources[i].URN == urn {
		return p.Resources[i], true
	}
	return Resource{}, false
}

// Children returns the resources whose parent is urn.
func (p *Plan) Children(urn string) []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Parent == urn {
			out = append(out, r)
		}
	}
	return out
}

// Get returns the input at a dotted path ("metadataOptions.httpTokens"; list items by index,
// "networkInterfaces.0.securityGroups"), or a null value when any step is missing.
func (r Resource) Get(path string) resource.PropertyValue {
	v := resource.NewObjectProperty(r.Inputs)
	for _, step := range strings.Split(path, ".") {
		switch {
		case v.IsObject():
			v = v.ObjectValue()[resource.PropertyKey(step)]
		case v.IsArray():
			var i int
			if _, err := fmt.Sscanf(step, "%d", &i); err != nil || i < 0 || i >= len(v.ArrayValue()) {
				return resource.NewNullProperty()
			}
			v = v.ArrayValue()[i]
		default:
			return resource.NewNullProperty()
		}
	}
	return v
}

// Str returns the string input at path, or "" when it is missing or not a string.
func (r Resource) Str(path string) string {
	if v := r.Get(path); v.IsString() {
		return v.StringValue()
	}
	return ""
}

// Bool returns the boolean input at path, false when missing. Launch template fields that the
// provider types as strings ("true") count too.
func (r Resource) Bool(path string) bool {
	v := r.Get(path)
	return (v.IsBool() && v.BoolValue()) || (v.IsString() && v.StringValue() == "true")
}

// Num returns the number at path, or 0.
func (r Resource) Num(path string) float64 {
	if v := r.Get(path); v.IsNumber() {
		return v.NumberValue()
	}
	return 0
}

// Len returns the number of items in the list at path, 0 when it is missing or not a list.
func (r Resource) Len(path string) int {
	if v := r.Get(path); v.IsArray() {
		return len(v.ArrayValue())
	}
	return 0
}

// Strings returns the list of strings at path.
func (r Resource) Strings(path string) []string {
	v := r.Get(path)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// GivenName is the physical name the resource's inputs fix, as the mocks recorded it (a
// prefix gets UniqueSuffix); empty when the provider makes one up from the logical name.
func (r Resource) GivenName() string { return givenName(r.Inputs) }

// Tags returns the resource's tags as a plain map: the "tags" map, or for an Auto Scaling
// group its list of {key, value}.
func (r Resource) Tags() map[string]string {
	t := r.Get("tags")
	out := map[string]string{}
	switch {
	case t.IsObject():
		for k, v := range t.ObjectValue() {
			if v.IsString() {
				out[string(k)] = v.StringValue()
			}
		}
	case t.IsArray():
		for _, e := range t.ArrayValue() {
			if e.IsObject() {
				o := e.ObjectValue()
				out[o["key"].StringValue()] = o["value"].StringValue()
			}
		}
	default:
		return nil
	}
	return out
}
