package iampolicy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Access is every policy IAM weighs for a role's request to a resource in the role's own
// account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
type Access struct {
	Principal string     // the role's ARN
	Account   string     // the role's (and the resource's) account
	Identity  []Document // the role's identity policies
	Boundary  []Document // its permissions boundary; nil when it has none
	// Resource is the resource's own policy (a bucket policy), if any.
	Resource []Document
	// Key is the KMS key policy when the request is a KMS call: a key is used only if its policy
	// allows the principal itself or the account (which hands the decision to IAM policies).
	Key []Document
}

// Decide reports whether IAM allows the request: no explicit deny anywhere; for a KMS key the key
// policy admits the principal by name (within its boundary), or admits its account and the
// identity policies allow it within the boundary; elsewhere the identity policies allow it
// within the boundary, or the resource's policy allows the principal by name. It models the same-account
// case this project needs; it errors on what it cannot read, like Allows.
func Decide(r Request, a Access) (bool, string, error) {
	// Every request carries its principal's ARN (aws:PrincipalArn), which key and resource
	// policies condition on.
	if _, ok := r.Context["aws:PrincipalArn"]; !ok && a.Principal != "" {
		r.Context = maps.Clone(r.Context)
		if r.Context == nil {
			r.Context = map[string]string{}
		}
		r.Context["aws:PrincipalArn"] = a.Principal
	}
	all := slices.Concat(a.Identity, a.Boundary)
	for _, d := range all {
		if denied, err := denies(r, d, ""); err != nil || denied {
			return false, "an identity or boundary policy denies it", err
		}
	}
	for _, d := range slices.Concat(a.Resource, a.Key) {
		if denied, err := denies(r, d, a.Principal); err != nil || denied {
			return false, "the resource's policy denies it", err
		}
	}
	identity, err := Allows(r, a.Identity...)
	if err != nil {
		return false, "", err
	}
	withinBoundary := true
	if a.Boundary != nil {
		if withinBoundary, err = Allows(r, a.Boundary...); err != nil {
			return false, "", err
		}
	}
	bounded := identity && withinBoundary
	if len(a.Key) > 0 {
		direct, err := admits(r, a.Key, a.Principal)
		if err != nil {
			return false, "", err
		}
		delegated, err := admits(r, a.Key, "arn:"+partition(a.Principal)+":iam::"+a.Account+":root")
		if err != nil {
			return false, "", err
		}
		switch {
		// A key policy naming the role is enough without an identity grant; a boundary still
		// caps it, as for any resource policy naming a role rather than its session
		// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html,
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
		case direct && withinBoundary:
			return true, "", nil
		case direct:
			return false, "the permissions boundary does not allow it", nil
		case !delegated && !direct:
			return false, "the key policy admits neither the role nor its account", nil
		case !identity:
			return false, "no identity policy allows it", nil
		case !bounded:
			return false, "the permissions boundary does not allow it", nil
		}
		return true, "", nil
	}
	if bounded {
		return true, "", nil
	}
	if byName, err := admits(r, a.Resource, a.Principal); err != nil || byName {
		return byName, "", err
	}
	if !identity {
		return false, "no identity policy allows it", nil
	}
	return false, "the permissions boundary does not allow it", nil
}

// denies reports a Deny statement matching the request (and, in a resource policy, the principal).
func denies(r Request, d Document, principal string) (bool, error) {
	for _, st := range d.Statement {
		if st.Effect != "Deny" {
			continue
		}
		if principal != "" && !names(st.Principal, principal) {
			continue
		}
		ok, err := st.matchesResource(r, principal != "")
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// admits reports an Allow statement of a resource policy naming the principal (or everyone).
func admits(r Request, docs []Document, principal string) (bool, error) {
	for _, d := range docs {
		for _, st := range d.Statement {
			if st.Effect != "Allow" || !names(st.Principal, principal) {
				continue
			}
			ok, err := st.matchesResource(r, true)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// matchesResource is matches for a resource policy, whose Resource "*" stands for the resource
// the policy is attached to.
func (st Statement) matchesResource(r Request, resourcePolicy bool) (bool, error) {
	if resourcePolicy && len(st.Resource) == 0 {
		st.Resource = []string{"*"}
	}
	return st.matches(r)
}

// names reports whether a policy's Principal element names an AWS principal, or everyone.
func names(principal map[string]any, arn string) bool {
	for _, v := range values(principal["AWS"]) {
		if v == arn || v == "*" {
			return true
		}
	}
	return false
}

func partition(arn string) string {
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 && parts[0] == "arn" {
		return parts[1]
	}
	return "aws"
}

// String spells an Access decision's inputs for failure messages.
func (a Access) String() string {
	return fmt.Sprintf("principal %s, %d identity, %d boundary, %d resource, %d key policies",
		a.Principal, len(a.Identity), len(a.Boundary), len(a.Resource), len(a.Key))
}
