package setup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
)

// namespace is this project's config namespace, as in account/Pulumi.yaml.
const namespace = "immutable-edge-account"

// Stack is one stack of the main program that gets a deploy role and a permissions boundary.
type Stack struct {
	Name         string `json:"name"`
	HostedZoneID string `json:"hostedZoneId"`
	// BuildsImage lets the stack run Packer (the main program's image.build).
	BuildsImage bool `json:"buildsImage"`
	// PromotesFrom is the stack whose AMI parameter this one may copy (images/promote.sh).
	PromotesFrom string `json:"promotesFrom,omitempty"`
	// Protect is the main program's protect (nil means true, as there): a stack with protect
	// false empties its buckets on destroy, so its deploy role may delete their objects.
	Protect *bool `json:"protect,omitempty"`
	// Edge is the main program's edge (eip when empty). Only an alb stack requests ACM
	// certificates, so only its role holds ACM's writes: their tag-on-create grant has to take
	// certificates without a Stack tag, which a stack without one has no reason to reach.
	Edge string `json:"edge,omitempty"`
	// PreviewSecrets lets the pull-request preview role decrypt the stack's secrets; off by
	// default, so a stack's secrets are decrypted only by its deploy role (from main).
	PreviewSecrets bool `json:"previewSecrets,omitempty"`
	// Data is the main program's database or cache: only a stack with a data tier may create
	// RDS and ElastiCache resources.
	Data bool `json:"data,omitempty"`
}

// LoadBalanced reports whether the stack's edge is alb: an ALB with an ACM certificate.
func (s Stack) LoadBalanced() bool { return s.Edge == "alb" }

// Disposable reports whether the stack sets protect false, so destroy empties its buckets.
func (s Stack) Disposable() bool { return s.Protect != nil && !*s.Protect }

// Settings is the validated config of the account program.
type Settings struct {
	Region     string  // aws:region; every stack deploys here (alarms for Route 53 also in us-east-1)
	Repository string  // GitHub owner/name whose workflows may assume the roles
	Project    string  // the main program's Pulumi project name, which its physical names start with
	Stacks     []Stack // one deploy role each
	// StateBucket creates the S3 state backend and the KMS key behind it and the secrets provider.
	StateBucket bool
	// PreviewRole creates the read-only role pull requests from this repository preview with.
	PreviewRole bool
	// OIDCProviderARN reuses the account's GitHub OIDC provider; empty creates it.
	OIDCProviderARN string
}

var (
	keys         = []string{"oidcProviderArn", "previewRole", "project", "repository", "stacks", "stateBucket"}
	repositoryRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
	stackRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	zoneRE       = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	oidcRE       = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
)

func key(k string) string { return namespace + ":" + k }

// load reads the raw config (key → value as the Pulumi CLI hands it over) and reports every bad
// key at once, each as a *config.KeyError naming it.
func load(raw map[string]string) (*Settings, error) {
	var errs []error
	fail := func(k, format string, a ...any) {
		errs = append(errs, &config.KeyError{Key: k, Reason: fmt.Sprintf(format, a...)})
	}
	s := &Settings{Region: raw["aws:region"], Repository: raw[key("repository")], Project: "immutable-edge",
		StateBucket: true, PreviewRole: true, OIDCProviderARN: raw[key("oidcProviderArn")]}
	for k := range raw {
		if name, ok := strings.CutPrefix(k, namespace+":"); ok && !slices.Contains(keys, name) {
			fail(k, "unknown key; the keys are %s", strings.Join(keys, ", "))
		}
	}
	if v, ok := raw[key("project")]; ok {
		s.Project = v
	}
	for k, dst := range map[string]*bool{"stateBucket": &s.StateBucket, "previewRole": &s.PreviewRole} {
		if v, ok := raw[key(k)]; ok {
			if v != "true" && v != "false" {
				fail(key(k), "must be true or false, got %q", v)
			}
			*dst = v == "true"
		}
	}
	if s.Region == "" {
		fail("aws:region", "is required: the region the stacks deploy to")
	}
	if !repositoryRE.MatchString(s.Repository) {
		fail(key("repository"), "must be the GitHub repository as owner/name, got %q", s.Repository)
	}
	if !stackRE.MatchString(s.Project) {
		fail(key("project"), "must be the main program's Pulumi project name, got %q", s.Project)
	}
	if s.OIDCProviderARN != "" && !oidcRE.MatchString(s.OIDCProviderARN) {
		fail(key("oidcProviderArn"), "must be the ARN of the token.actions.githubusercontent.com provider, got %q", s.OIDCProviderARN)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw[key("stacks")])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.Stacks); err != nil || len(s.Stacks) == 0 {
		fail(key("stacks"), "needs a list of {name, hostedZoneId, edge, buildsImage, promotesFrom, protect, previewSecrets} with at least one stack (%v)", err)
	}
	s.validateStacks(fail)
	return s, errors.Join(errs...)
}

func (s *Settings) validateStacks(fail func(k, format string, a ...any)) {
	names := map[string]bool{}
	for _, st := range s.Stacks {
		names[st.Name] = true
	}
	for i, st := range s.Stacks {
		k := fmt.Sprintf("%s[%d]", key("stacks"), i)
		switch {
		case !stackRE.MatchString(st.Name) || len(s.Project)+1+len(st.Name) > 27:
			fail(k+".name", "%q must be a stack name of lower-case letters, digits and hyphens that keeps %s-<name> within 27 characters", st.Name, s.Project)
		case st.Name == "state":
			// A stack's bucket grants cover <project>-<stack>-*, which would take in the state bucket.
			fail(k+".name", "%q is reserved: %s-state-* is the state bucket", st.Name, s.Project)
		case st.Name == AccountStack:
			// The account program's resources carry Stack=<its stack>; a main stack of that name
			// would own them by tag.
			fail(k+".name", "%q is reserved: it is the account stack's Stack tag", st.Name)
		case slices.ContainsFunc(s.Stacks, func(o Stack) bool { return strings.HasPrefix(st.Name, o.Name+"-") }):
			// Every name pattern of a stack is <stack>-* (groups, load balancers, buckets, topics,
			// alarms): dev's would match every name of a stack called dev-eu. Anchoring the
			// patterns is not possible with Pulumi's auto-names, so such pairs are refused.
			fail(k+".name", "%q starts with another stack's name and a hyphen: that stack's name patterns (<name>-*) would match this one's resources", st.Name)
		}
		if !zoneRE.MatchString(st.HostedZoneID) {
			fail(k+".hostedZoneId", "%q is not a Route 53 hosted zone id", st.HostedZoneID)
		}
		if st.Edge != "" && st.Edge != "eip" && st.Edge != "alb" {
			fail(k+".edge", "%q must be the main program's edge: eip or alb", st.Edge)
		}
		if st.PromotesFrom != "" && (!names[st.PromotesFrom] || st.PromotesFrom == st.Name) {
			fail(k+".promotesFrom", "%q is not another stack in this list", st.PromotesFrom)
		}
		if i > 0 && slices.ContainsFunc(s.Stacks[:i], func(o Stack) bool { return o.Name == st.Name }) {
			fail(k+".name", "%q is listed twice", st.Name)
		}
	}
}

// buildsImages reports whether any stack runs Packer, which needs the image builder's profile.
func (s *Settings) buildsImages() bool {
	return slices.ContainsFunc(s.Stacks, func(st Stack) bool { return st.BuildsImage })
}
