package setup

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// resourcePolicies are the policies AWS weighs with a deploy role's own for a request to one
// of the plan's resources: a bucket's policy (for the bucket and its objects), a topic's policy,
// a key's policy.
type resourcePolicies struct {
	resource map[string]iampolicy.Document // bucket and topic ARNs
	key      map[string]iampolicy.Document // key ARNs
}

func policiesOf(t *testing.T, p *plan.Plan) resourcePolicies {
	t.Helper()
	rp := resourcePolicies{resource: map[string]iampolicy.Document{}, key: map[string]iampolicy.Document{}}
	for _, token := range []string{"aws:s3/bucketPolicy:BucketPolicy", "aws:sns/topicPolicy:TopicPolicy"} {
		for _, r := range p.OfType(token) {
			_, arn := permissions.Identity(p, r)
			rp.resource[arn] = doc(t, r.Str("policy"))
		}
	}
	for _, r := range p.OfType("aws:kms/key:Key") {
		_, arn := permissions.Identity(p, r)
		rp.key[arn] = doc(t, r.Str("policy"))
	}
	require.NotEmpty(t, rp.resource)
	require.NotEmpty(t, rp.key)
	return rp
}

// access is what IAM weighs for the deploy role's request: its policies (a deploy role carries
// no boundary: the account's administrator makes it), and the policy of the resource named.
func (rp resourcePolicies) access(stack string, identity []iampolicy.Document, r iampolicy.Request) iampolicy.Access {
	a := iampolicy.Access{
		Principal: config.DeployRoleARN("aws", plan.Account, "immutable-edge", stack),
		Account:   plan.Account, Identity: identity,
	}
	for arn, d := range rp.resource {
		if r.Resource == arn || strings.HasPrefix(r.Resource, arn+"/") {
			a.Resource = []iampolicy.Document{d}
		}
	}
	if d, ok := rp.key[r.Resource]; ok {
		a.Key = []iampolicy.Document{d}
	}
	return a
}

// overTLS is the request as the provider sends it: over HTTPS, which the buckets' policies require.
func overTLS(r iampolicy.Request) iampolicy.Request {
	r.Context = maps.Clone(r.Context)
	if r.Context == nil {
		r.Context = map[string]string{}
	}
	r.Context["aws:SecureTransport"] = "true"
	return r
}

// destroyRefusals asks IAM, through Decide, for every request `pulumi destroy` of the plan
// sends, and returns one line per action refused.
func destroyRefusals(t *testing.T, p *plan.Plan, needs []permissions.Need, identity []iampolicy.Document) []string {
	t.Helper()
	return refusalsWith(t, policiesOf(t, p), p.Stack, needs, identity)
}

// refusalsWith is destroyRefusals weighed against the given resource and key policies.
func refusalsWith(t *testing.T, rp resourcePolicies, stack string, needs []permissions.Need, identity []iampolicy.Document) []string {
	t.Helper()
	refused := map[string]string{}
	for _, n := range needs {
		req := overTLS(n.Request)
		ok, why, err := iampolicy.Decide(req, rp.access(stack, identity, req))
		require.NoError(t, err)
		if !ok && refused[req.Action] == "" {
			refused[req.Action] = fmt.Sprintf("%s on %s for %s: %s", req.Action, req.Resource, n.From, why)
		}
	}
	var lines []string
	for _, a := range slices.Sorted(maps.Keys(refused)) {
		lines = append(lines, refused[a])
	}
	return lines
}

// TestDevDestroysInOneCommand: nothing in dev's plan is protected, and every request `pulumi
// destroy` of dev sends (each planned resource's delete path in the derived table, with the
// emptying of its force_destroy bucket, the image command's delete and the provider's
// configuration) is allowed to dev's deploy role, weighed with the bucket's, topic's and key's
// policies as IAM does. Each action, taken out of the role alone, refuses one of them.
func TestDevDestroysInOneCommand(t *testing.T) {
	table := apiTable(t)
	p := mainPlan(t, "dev")
	for _, r := range p.Resources {
		require.False(t, r.Protect, "%s %s is protected: pulumi destroy stops at it", r.Type, r.Name)
	}
	needs, err := permissions.DestroyNeeds(table, p)
	require.NoError(t, err)
	docs := deployDocs(t, "dev")
	refused := destroyRefusals(t, p, needs, docs)
	require.Empty(t, refused, "dev's deploy role refuses %d actions destroy sends:\n%s", len(refused), strings.Join(refused, "\n"))

	actions := permissions.Actions(needs)
	for _, a := range []string{
		"s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket", // the certificate bucket, emptied
		"ecr:DeleteRepository", // force_delete: ECR deletes the images itself
		"ec2:ReleaseAddress",   // the Elastic IP, unprotected
		"kms:ScheduleKeyDeletion", "ec2:DeregisterImage", "sts:GetCallerIdentity",
	} {
		require.Contains(t, actions, a, "destroy of dev sends %s", a)
	}
	for _, n := range needs {
		require.Contains(t, []string{awsapi.Delete, ""}, n.Phase, "%s is not a destroy request", n.From)
	}
	t.Logf("dev destroy: %d requests, %d actions, all allowed", len(needs), len(actions))

	// Each action is checked: without it, destroy stops somewhere.
	for _, action := range actions {
		cut := permissions.Without(table, docs, action)
		var mine []permissions.Need
		for _, n := range needs {
			if n.Request.Action == action {
				mine = append(mine, n)
			}
		}
		// Out of the key policy too: the stack's key is administered only through it.
		rp := policiesOf(t, p)
		for arn, k := range rp.key {
			rp.key[arn] = permissions.Without(table, []iampolicy.Document{k}, action)[0]
		}
		require.NotEmpty(t, refusalsWith(t, rp, p.Stack, mine, cut), "removing %s from dev's deploy role refuses none of destroy's %d requests", action, len(mine))
	}

	// The resource policies are weighed: the certificate bucket refuses plain HTTP whatever the role may.
	bucket := find(t, p, "aws:s3/bucketV2:BucketV2", "dev-certs")
	_, arn := permissions.Identity(p, bucket)
	plain := iampolicy.Request{Action: "s3:DeleteObjectVersion", Resource: arn + "/letsencrypt/state.tar.gz",
		Context: map[string]string{"aws:SecureTransport": "false"}}
	ok, _, err := iampolicy.Decide(plain, policiesOf(t, p).access("dev", docs, plain))
	require.NoError(t, err)
	require.False(t, ok, "the bucket's DenyPlainHTTP applies to the deploy role too")
}

// TestProdKeepsWhatDestroyWouldLose: prod's plan protects its log bucket and repositories, its
// destroy would not empty them, and its deploy role may not delete a single log object: the
// access logs outlive a compromised or mistaken prod workflow.
func TestProdKeepsWhatDestroyWouldLose(t *testing.T) {
	table := apiTable(t)
	p := mainPlan(t, "prod")
	logs := find(t, p, "aws:s3/bucketV2:BucketV2", "prod-alb-logs")
	require.True(t, logs.Protect)
	require.False(t, logs.Bool("forceDestroy"))
	for _, r := range p.OfType("aws:ecr/repository:Repository") {
		require.True(t, r.Protect, r.Name)
	}
	needs, err := permissions.DestroyNeeds(table, p)
	require.NoError(t, err)
	require.NotContains(t, permissions.Actions(needs), "s3:DeleteObjectVersion")
	require.NotContains(t, permissions.Actions(needs), "s3:ListBucketVersions")

	_, arn := permissions.Identity(p, logs)
	docs := deployDocs(t, "prod")
	for _, action := range []string{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"} {
		res := arn + "/alb/AWSLogs/" + plan.Account + "/x.log.gz"
		if action == "s3:ListBucketVersions" {
			res = arn
		}
		req := overTLS(iampolicy.Request{Action: action, Resource: res})
		ok, _, err := iampolicy.Decide(req, policiesOf(t, p).access("prod", docs, req))
		require.NoError(t, err)
		require.False(t, ok, "prod's deploy role may %s on %s", action, res)
	}
}

// TestProdTeardownAsTheReadmeSaysIt follows the README's deliberate teardown of prod: protect
// false in the account stack's entry for prod and in Pulumi.prod.yaml, and the load balancer's
// deletion protection off. Then nothing of prod is protected, and prod's own deploy role may
// send every request of the up that takes the protections off and of the destroy after it, the
// log bucket's emptying included.
func TestProdTeardownAsTheReadmeSaysIt(t *testing.T) {
	table := apiTable(t)
	t.Chdir(filepath.Join(here, ".."))
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	p, err := plan.RunConfig("prod", cfg.With("protect", "false").Set("alb.deletionProtection", false), nil)
	require.NoError(t, err)
	for _, r := range p.Resources {
		require.False(t, r.Protect, "%s %s is still protected", r.Type, r.Name)
	}
	require.False(t, find(t, p, "aws:lb/loadBalancer:LoadBalancer", "prod-alb").Bool("enableDeletionProtection"))

	var stacks []map[string]any
	require.NoError(t, json.Unmarshal([]byte(committed(t)["immutable-edge-account:stacks"]), &stacks))
	for _, st := range stacks {
		if st["name"] == "prod" {
			st["protect"] = false
		}
	}
	acct, err := run(committed(t).With("immutable-edge-account:stacks", stacks))
	require.NoError(t, err)
	var docs []iampolicy.Document
	for _, part := range []string{"compute", "network", "named", "identity"} {
		docs = append(docs, doc(t, find(t, acct, tPolicy, "immutable-edge-prod-deploy-"+part).Str("policy")))
	}
	up, _ := stackNeeds(t, table, p)
	keys := stackKeys(t, p)
	for _, n := range up {
		require.True(t, deployAllows(t, "prod", keys, n.Request, docs), "the up that unprotects prod sends %s on %s (%s)", n.Request.Action, n.Request.Resource, n.From)
	}
	needs, err := permissions.DestroyNeeds(table, p)
	require.NoError(t, err)
	require.Contains(t, permissions.Actions(needs), "s3:DeleteObjectVersion", "the log bucket is emptied")
	refused := destroyRefusals(t, p, needs, docs)
	require.Empty(t, refused, "prod's deploy role refuses %d actions its teardown sends:\n%s", len(refused), strings.Join(refused, "\n"))

	// Before the account step, the same destroy stops at the log bucket.
	require.NotEmpty(t, destroyRefusals(t, p, needs, deployDocs(t, "prod")))
}
