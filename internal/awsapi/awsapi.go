// Package awsapi is what the AWS provider calls on a stack's behalf: for every resource type and
// data source the programs plan, the AWS API operations its create, read, update and delete
// paths reach, mapped to the IAM actions that authorise them. The table is derived by
// cmd/apitable from the provider's own source and AWS's Service Authorization Reference, never
// written by hand; table.json is its output, embedded here.
package awsapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// The lifecycle phases of a resource, as the provider implements them. Plan is the code that runs
// while a preview computes the diff (CustomizeDiff, ModifyPlan); the others are its handlers.
const (
	Plan   = "plan"
	Create = "create"
	Read   = "read"
	Update = "update"
	Delete = "delete"
)

// Phases are the lifecycle phases in the order a resource lives them.
var Phases = []string{Plan, Create, Read, Update, Delete}

// Table is the derived table.
type Table struct {
	// Provider is where the operations were read: the provider's repository and commits.
	Provider Source `json:"provider"`
	// IAM is the copy of the Service Authorization Reference the actions were mapped with.
	IAM IAMSource `json:"iam"`
	// Resources are keyed by the provider's type name (aws_lb_listener).
	Resources map[string]*Type `json:"resources"`
	// DataSources are keyed by the provider's data source name (aws_ssm_parameter).
	DataSources map[string]*Type `json:"dataSources"`
	// Operations maps each SDK operation ("elasticloadbalancingv2.ModifyListenerAttributes") to
	// the IAM actions that authorise it.
	Operations map[string][]string `json:"operations"`
	// Actions holds, for each action the table names, the resource types the Service
	// Authorization Reference lists for it.
	Actions map[string]Action `json:"actions"`
	// ResourceTypes maps "service:type" to the type's ARN template.
	ResourceTypes map[string]string `json:"resourceTypes"`
	// ServiceActions lists every action of each service the table touches, so a policy's
	// wildcards can be expanded into the actions they grant.
	ServiceActions map[string][]string `json:"serviceActions"`
	// ELBAccounts are the regional Elastic Load Balancing accounts that deliver access logs in
	// the regions opened before August 2022, as the provider's aws_elb_service_account knows them.
	ELBAccounts map[string]string `json:"elbAccounts"`

	// expanded remembers Expand's answers: the tests expand the same few patterns thousands of times.
	expanded sync.Map
}

// Source names the provider revision the table was derived from.
type Source struct {
	Repository string `json:"repository"`
	Commit     string `json:"commit"` // the tree most files came from
	Date       string `json:"date"`
	Note       string `json:"note,omitempty"`
	// Overlays are files read at another revision than Commit, with the revision each came from.
	Overlays []File `json:"overlays,omitempty"`
	// Spelled are names.AttrX constants an overlay file uses that the checkout's names package
	// does not declare; their attribute names were spelled from the constant names.
	Spelled []string `json:"spelled,omitempty"`
}

// File is one provider file read at another revision than the checkout.
type File struct {
	Path string `json:"path"`
	// Source is the commit it was read at, or index:<id> when the search index that served it
	// named no commit.
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
}

// IAMSource names the package the IAM data came from.
type IAMSource struct {
	Package   string `json:"package"`
	Version   string `json:"version"`
	Integrity string `json:"integrity"`
	// Overrides are the operations whose action is not named after them, with where AWS says so.
	Overrides map[string]Override `json:"overrides,omitempty"`
}

// Override is an operation authorised by actions not named after it.
type Override struct {
	Actions []string `json:"actions"`
	Source  string   `json:"source"`
}

// Type is one resource type or data source.
type Type struct {
	File  string `json:"file"` // the provider file that defines it
	Token string `json:"token"`
	// Ops lists, per phase, the SDK operations the phase's code paths can reach.
	Ops map[string][]string `json:"ops"`
	// Tagged is set when the provider's tagging interceptor lists and updates the tags.
	Tagged bool `json:"tagged,omitempty"`
	// Attributes are the argument and attribute names of its schema (dotted for nested blocks).
	Attributes []string `json:"attributes"`
	// Constraints are what the schema says of each argument that has something to say
	// (required, limits, conflicts, validators), keyed like Attributes.
	Constraints map[string]Constraint `json:"constraints,omitempty"`
}

// Constraint is what the provider's schema says of one argument.
type Constraint struct {
	Required bool `json:"required,omitempty"`
	Optional bool `json:"optional,omitempty"`
	Computed bool `json:"computed,omitempty"`
	// MaxItems and MinItems bound a list or set block.
	MaxItems int `json:"maxItems,omitempty"`
	MinItems int `json:"minItems,omitempty"`
	// The schema's relations to other arguments, as attribute paths ("name_prefix").
	ConflictsWith []string `json:"conflictsWith,omitempty"`
	ExactlyOneOf  []string `json:"exactlyOneOf,omitempty"`
	AtLeastOneOf  []string `json:"atLeastOneOf,omitempty"`
	RequiredWith  []string `json:"requiredWith,omitempty"`
	// Rule is the argument's validator, compiled.
	Rule *Rule `json:"rule,omitempty"`
	// At is where the provider declares the argument (file:line), to read its validator.
	At string `json:"at"`
}

// Rule is a provider validator compiled into what a value must be. Kinds: len (Min/Max
// characters), match and notMatch (Pattern, RE2), enum (Values, Fold for any case), range
// (Min/Max numbers), all and any (Of), not (Of[0] must fail), never (no value passes), named (a
// validator the checker knows by Name, or not), unknown (a validator the generator could not
// read, by its source text).
type Rule struct {
	Kind    string   `json:"kind"`
	Min     *int64   `json:"min,omitempty"`
	Max     *int64   `json:"max,omitempty"`
	Pattern string   `json:"pattern,omitempty"`
	Values  []string `json:"values,omitempty"`
	Fold    bool     `json:"fold,omitempty"`
	Of      []Rule   `json:"of,omitempty"`
	Name    string   `json:"name,omitempty"`
}

// Action is what the Service Authorization Reference says about one action.
type Action struct {
	// AccessLevel is the reference's class of the action: List, Read, Write, Permissions
	// management or Tagging.
	AccessLevel string `json:"accessLevel"`
	// ResourceTypes are the resource types the action applies to; Required marks the ones
	// every request names.
	ResourceTypes []ResourceType `json:"resourceTypes,omitempty"`
}

// ResourceType is one resource type an action applies to.
type ResourceType struct {
	Name     string `json:"name"`
	Required bool   `json:"required,omitempty"`
}

//go:embed table.json
var tableJSON []byte

var (
	loadOnce sync.Once
	loaded   *Table
	loadErr  error
)

// Load returns the embedded table.
func Load() (*Table, error) {
	loadOnce.Do(func() {
		var t Table
		if err := json.Unmarshal(tableJSON, &t); err != nil {
			loadErr = fmt.Errorf("awsapi: table.json: %w", err)
			return
		}
		loaded = &t
	})
	return loaded, loadErr
}

// Type returns the resource type or data source behind a Pulumi type token or invoke token.
func (t *Table) Type(token string) (*Type, string, error) {
	if tf, ok := ResourceTypes[token]; ok {
		if r, ok := t.Resources[tf]; ok {
			return r, tf, nil
		}
		return nil, tf, fmt.Errorf("awsapi: %s (%s) is not in the table; regenerate it with cmd/apitable", token, tf)
	}
	if tf, ok := DataSources[token]; ok {
		if r, ok := t.DataSources[tf]; ok {
			return r, tf, nil
		}
		return nil, tf, fmt.Errorf("awsapi: %s (%s) is not in the table; regenerate it with cmd/apitable", token, tf)
	}
	return nil, "", fmt.Errorf("awsapi: no provider type is known for %s; add it to awsapi.ResourceTypes or DataSources and regenerate", token)
}

// PhaseActions returns the IAM actions a phase of a type needs, sorted.
func (t *Table) PhaseActions(typ *Type, phase string) []string {
	set := map[string]bool{}
	for _, op := range typ.Ops[phase] {
		for _, a := range t.Operations[op] {
			set[a] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// ARN fills an ARN template of a resource type ("elasticloadbalancing:listener/app") with
// values; variables not given become the placeholder.
func (t *Table) ARN(resourceType string, vars map[string]string, placeholder string) (string, bool) {
	tmpl, ok := t.ResourceTypes[resourceType]
	if !ok {
		return "", false
	}
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		j := strings.Index(tmpl[i:], "}")
		if j < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		name := tmpl[i+2 : i+j]
		if v, ok := vars[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(placeholder)
		}
		tmpl = tmpl[i+j+1:]
	}
	return b.String(), true
}

// Expand returns the actions of the table's services a policy action pattern grants
// ("ec2:Describe*" → every EC2 Describe action), sorted; a pattern of a service the table does
// not hold returns nil.
func (t *Table) Expand(pattern string) []string {
	if out, ok := t.expanded.Load(pattern); ok {
		return slices.Clone(out.([]string))
	}
	out := t.expand(pattern)
	t.expanded.Store(pattern, out)
	return slices.Clone(out)
}

func (t *Table) expand(pattern string) []string {
	service, name, ok := strings.Cut(pattern, ":")
	if !ok {
		return nil
	}
	var out []string
	for svc, actions := range t.ServiceActions {
		if !wildMatch(strings.ToLower(service), svc) {
			continue
		}
		for _, a := range actions {
			if wildMatch(strings.ToLower(name), strings.ToLower(a)) {
				out = append(out, svc+":"+a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// wildMatch matches IAM action wildcards: * any run, ? one character.
func wildMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}
