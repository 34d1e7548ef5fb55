// Package isolation reads the account program's plan into the roles and keys the refusal
// table (account/setup's Attempts) is weighed against, for its test and for cmd/docgen.
package isolation

import (
	"fmt"
	"strings"

	"github.com/immutable-edge/immutable-edge/account/setup"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// FromPlan collects, from a plan of the account program, each deploy role's and the preview
// role's managed policies, and the state and secrets keys with their key policies; and from
// plans of the main program's stacks, each stack's key with its key policy.
func FromPlan(p *plan.Plan, stacks ...*plan.Plan) (setup.Roles, error) {
	project := "immutable-edge"
	r := setup.Roles{Account: plan.Account, Region: p.Config["aws:region"], Project: project,
		Identity: map[string][]iampolicy.Document{}, Keys: map[string]iampolicy.Document{}, SecretsKeys: map[string]string{},
		StackKeys: map[string]string{}}
	for _, sp := range stacks {
		keys := sp.OfType("aws:kms/key:Key")
		if len(keys) != 1 {
			return r, fmt.Errorf("stack %s: %d keys, want its one", sp.Stack, len(keys))
		}
		_, arn := permissions.Identity(sp, keys[0])
		d, err := iampolicy.Parse(keys[0].Str("policy"))
		if err != nil {
			return r, fmt.Errorf("stack %s: key %s: %w", sp.Stack, keys[0].Name, err)
		}
		r.Keys[arn], r.StackKeys[sp.Stack] = d, arn
	}
	for _, pol := range p.OfType("aws:iam/policy:Policy") {
		name := pol.Str("name")
		role := ""
		switch {
		case name == project+"-preview":
			role = "preview"
		case strings.Contains(name, "-deploy-"):
			role = strings.TrimPrefix(name[:strings.Index(name, "-deploy-")], project+"-")
		default:
			continue
		}
		d, err := iampolicy.Parse(pol.Str("policy"))
		if err != nil {
			return r, fmt.Errorf("policy %s: %w", name, err)
		}
		r.Identity[role] = append(r.Identity[role], d)
	}
	for _, k := range p.OfType("aws:kms/key:Key") {
		_, arn := permissions.Identity(p, k)
		d, err := iampolicy.Parse(k.Str("policy"))
		if err != nil {
			return r, fmt.Errorf("key %s: %w", k.Name, err)
		}
		r.Keys[arn] = d
		if stack, ok := strings.CutSuffix(strings.TrimPrefix(k.Name, project+"-"), "-secrets"); ok {
			r.SecretsKeys[stack] = arn
		} else if k.Name == project+"-state" {
			r.StateKey = arn
		}
	}
	for _, b := range p.OfType("aws:s3/bucketV2:BucketV2") {
		if b.Name == project+"-state" {
			r.StateBucket = permissions.Physical(b)
		}
	}
	if r.StateKey == "" || r.StateBucket == "" || len(r.Identity["preview"]) == 0 {
		return r, fmt.Errorf("the plan has no state backend or no preview role")
	}
	return r, nil
}
