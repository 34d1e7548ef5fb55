package setup

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const region = "eu-central-1"

// policies returns the parsed documents of the account plan's managed policies with the given names.
func policies(t *testing.T, names ...string) []iampolicy.Document {
	t.Helper()
	var out []iampolicy.Document
	for _, n := range names {
		out = append(out, doc(t, find(t, accountPlan(t), tPolicy, n).Str("policy")))
	}
	return out
}

func deployDocs(t *testing.T, stack string) []iampolicy.Document {
	p := "immutable-edge-" + stack + "-deploy-"
	names := []string{p + "compute", p + "network", p + "named", p + "identity"}
	for _, part := range []string{"image", "data"} {
		if _, ok := accountPlan(t).Find(tPolicy, p+part); ok {
			names = append(names, p+part)
		}
	}
	return policies(t, names...)
}

var mainPlans = struct {
	sync.Mutex
	m map[string]*plan.Plan
}{m: map[string]*plan.Plan{}}

// mainPlan plans a stack of the main program from its committed Pulumi.<stack>.yaml; the
// program finds images/ from the working directory, so it runs from the repository root.
func mainPlan(t *testing.T, stack string) *plan.Plan {
	t.Helper()
	mainPlans.Lock()
	defer mainPlans.Unlock()
	if p, ok := mainPlans.m[stack]; ok {
		return p
	}
	t.Chdir(filepath.Join(here, ".."))
	p, err := plan.Run(stack, "")
	require.NoError(t, err)
	mainPlans.m[stack] = p
	return p
}

func allows(t *testing.T, r iampolicy.Request, docs []iampolicy.Document) bool {
	t.Helper()
	ok, err := iampolicy.Allows(r, docs...)
	require.NoError(t, err)
	return ok
}

// stackKeys are the key policies of the stack's KMS keys by ARN, which IAM weighs with the
// deploy role's identity policies for a call on the key.
func stackKeys(t *testing.T, p *plan.Plan) map[string]iampolicy.Document { return policiesOf(t, p).key }

// deployAllows weighs a request of the stack's deploy role as IAM does: its identity policies
// and, on one of the stack's keys, that key's policy (which alone lets the role manage it).
func deployAllows(t *testing.T, stack string, keys map[string]iampolicy.Document, r iampolicy.Request, docs []iampolicy.Document) bool {
	t.Helper()
	ok, _, err := iampolicy.Decide(r, resourcePolicies{key: keys}.access(stack, docs, r))
	require.NoError(t, err)
	return ok
}

// TestDeployRoleCoversWhatTheStackCreates plans each committed stack of the main program and
// asks, for every request the AWS provider makes for it over its lifecycle (create, update,
// refresh, delete: internal/awsapi's table, derived from the provider's source), whether the
// stack's deploy role allows it on that resource's ARN, in its region, with its tags. A
// resource type the table lacks fails here until the table is regenerated.
func TestDeployRoleCoversWhatTheStackCreates(t *testing.T) {
	table := apiTable(t)
	for _, stack := range committedStacks(t) {
		t.Run(stack, func(t *testing.T) {
			p := mainPlan(t, stack)
			docs, keys := deployDocs(t, stack), stackKeys(t, p)
			needs, excluded := stackNeeds(t, table, p)
			denied := map[string]string{}
			for _, n := range needs {
				if !deployAllows(t, stack, keys, n.Request, docs) && denied[n.Request.Action] == "" {
					denied[n.Request.Action] = fmt.Sprintf("%s on %s for %s", n.Request.Action, n.Request.Resource, n.From)
				}
			}
			var lines []string
			for _, a := range slices.Sorted(maps.Keys(denied)) {
				lines = append(lines, denied[a])
			}
			require.Empty(t, lines, "%s deploy role refuses %d actions the provider sends:\n%s", stack, len(lines), strings.Join(lines, "\n"))
			t.Logf("%s: %d requests for %d resources and %d reads: %d actions needed, all allowed; %d excluded on purpose; %d granted beyond need",
				stack, len(needs), len(p.Resources), len(p.Reads), len(permissions.Actions(needs)), len(excluded), permissions.Beyond(table, docs, needs))
			// Pulumi writes the stack's checkpoint and history, and takes its lock.
			for _, key := range []string{"stacks/immutable-edge/" + stack + ".json", "history/immutable-edge/" + stack + "/" + stack + "-1.history.json",
				"locks/organization/immutable-edge/" + stack + "/x.json", "backups/immutable-edge/" + stack + "/" + stack + ".1.json"} {
				require.True(t, allows(t, iampolicy.Request{Action: "s3:PutObject", Resource: stateObject(key)}, docs), key)
			}
			require.True(t, allows(t, iampolicy.Request{Action: "kms:Decrypt", Resource: stateKey, Context: viaS3}, docs))
			require.True(t, allows(t, iampolicy.Request{Action: "kms:Decrypt", Resource: secretsKey(stack)}, docs), "pulumi decrypts the stack's secrets")
		})
	}
}

// TestEveryDerivedActionIsChecked takes each action the stacks need out of the deploy role, one
// at a time, and expects the coverage check to fail: no derived action goes unchecked, and
// none is granted twice in a way that hides a missing one.
func TestEveryDerivedActionIsChecked(t *testing.T) {
	table := apiTable(t)
	for _, stack := range committedStacks(t) {
		t.Run(stack, func(t *testing.T) {
			p := mainPlan(t, stack)
			needs, _ := stackNeeds(t, table, p)
			docs, keys := deployDocs(t, stack), stackKeys(t, p)
			byAction := map[string][]permissions.Need{}
			for _, n := range needs {
				byAction[n.Request.Action] = append(byAction[n.Request.Action], n)
			}
			for _, action := range permissions.Actions(needs) {
				// Cut from the key policies too: the key's administration is granted only there.
				cut, cutKeys := permissions.Without(table, docs, action), map[string]iampolicy.Document{}
				for arn, k := range keys {
					cutKeys[arn] = permissions.Without(table, []iampolicy.Document{k}, action)[0]
				}
				refused := slices.ContainsFunc(byAction[action], func(n permissions.Need) bool { return !deployAllows(t, stack, cutKeys, n.Request, cut) })
				require.True(t, refused, "%s: removing %s from the deploy role refuses none of its %d requests", stack, action, len(byAction[action]))
			}
			t.Logf("%s: each of %d actions, removed alone, fails the coverage check", stack, len(byAction))
		})
	}
}

func apiTable(t *testing.T) *awsapi.Table {
	t.Helper()
	table, err := awsapi.Load()
	require.NoError(t, err)
	return table
}

const stateKey = "arn:aws:kms:eu-central-1:" + plan.Account + ":key/0123abcd-immutable-edge-state"

// viaS3 is a KMS request S3 makes for the caller (SSE-KMS of the state objects).
var viaS3 = map[string]string{"kms:ViaService": "s3." + region + ".amazonaws.com"}

func secretsKey(stack string) string {
	return "arn:aws:kms:eu-central-1:" + plan.Account + ":key/0123abcd-immutable-edge-" + stack + "-secrets"
}

func stateObject(key string) string {
	return "arn:aws:s3:::immutable-edge-state-" + plan.UniqueSuffix + "/.pulumi/" + key
}

// TestDeployRoleRefuses is what least privilege means here: each call is one a compromised or
// mistaken dev workflow might make.
func TestDeployRoleRefuses(t *testing.T) {
	acct := plan.Account
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + region + ":" + acct + ":" + resource
	}
	boundary := "arn:aws:iam::" + acct + ":policy/immutable-edge/immutable-edge-dev-boundary"
	inRegion := map[string]string{"aws:RequestedRegion": region}
	image := func(resource string) string { return "arn:aws:ec2:" + region + "::" + resource } // images and snapshots have no account
	tagged := func(project, channel string) map[string]string {
		return map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Project": project, "aws:ResourceTag/Channel": channel,
			"aws:ResourceTag/Stack": channel}
	}
	for _, tc := range []struct {
		name  string
		stack string
		req   iampolicy.Request
	}{
		{"a role without the boundary", "dev", iampolicy.Request{Action: "iam:CreateRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/admin"}},
		{"a role with another boundary", "dev", iampolicy.Request{Action: "iam:CreateRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/admin",
			Context:  map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{"a role under prod's path", "dev", iampolicy.Request{Action: "iam:CreateRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/prod/x", Context: map[string]string{"iam:PermissionsBoundary": boundary}}},
		{"an administrator policy on its role", "dev", iampolicy.Request{Action: "iam:AttachRolePolicy",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/dev-role",
			Context:  map[string]string{"iam:PermissionsBoundary": boundary, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{"dropping the boundary", "dev", iampolicy.Request{Action: "iam:DeleteRolePermissionsBoundary",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/dev-role"}},
		{"rewriting the boundary", "dev", iampolicy.Request{Action: "iam:CreatePolicyVersion", Resource: boundary}},
		{"changing its own deploy role", "dev", iampolicy.Request{Action: "iam:PutRolePolicy",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/immutable-edge-dev-deploy", Context: map[string]string{"iam:PermissionsBoundary": boundary}}},
		{"passing a role to Lambda", "dev", iampolicy.Request{Action: "iam:PassRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/dev-role", Context: map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}},
		{"deleting prod's VPC", "dev", iampolicy.Request{Action: "ec2:DeleteVpc", Resource: arn("ec2", "vpc/vpc-1"),
			Context: map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": "prod"}}},
		{"retagging prod's instances", "dev", iampolicy.Request{Action: "ec2:CreateTags", Resource: arn("ec2", "instance/i-1"),
			Context: map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": "prod"}}},
		{"a VPC in another region", "dev", iampolicy.Request{Action: "ec2:CreateVpc", Resource: "arn:aws:ec2:us-west-2:" + acct + ":vpc/*",
			Context: map[string]string{"aws:RequestedRegion": "us-west-2"}}},
		{"reading the certificate's private key", "dev", iampolicy.Request{Action: "s3:GetObject",
			Resource: "arn:aws:s3:::immutable-edge-dev-certs-20261123000000000001/letsencrypt/live/privkey.pem"}},
		{"prod's AMI parameter", "dev", iampolicy.Request{Action: "ssm:PutParameter", Resource: arn("ssm", "parameter/immutable-edge/prod/ami-id")}},
		{"records in prod's zone", "dev", iampolicy.Request{Action: "route53:ChangeResourceRecordSets", Resource: "arn:aws:route53:::hostedzone/Z0123456789PRODEXAMPLE"}},
		{"prod's state", "dev", iampolicy.Request{Action: "s3:PutObject", Resource: stateObject("stacks/immutable-edge/prod.json")}},
		{"the account stack's state", "dev", iampolicy.Request{Action: "s3:GetObject", Resource: stateObject("stacks/immutable-edge-account/account.json")}},
		{"rewriting the backend's layout", "dev", iampolicy.Request{Action: "s3:PutObject", Resource: stateObject("meta.yaml")}},
		{"prod's alarms", "dev", iampolicy.Request{Action: "cloudwatch:DeleteAlarms", Resource: arn("cloudwatch", "alarm:immutable-edge-prod-cpu")}},
		{"a key for another stack", "dev", iampolicy.Request{Action: "kms:CreateKey", Resource: "*",
			Context: map[string]string{"aws:RequestedRegion": region, "aws:RequestTag/Stack": "prod"}}},
		{"building images (prod only promotes)", "prod", iampolicy.Request{Action: "ec2:CreateImage", Resource: arn("ec2", "instance/i-1"), Context: inRegion}},
		{"emptying prod's log bucket", "dev", iampolicy.Request{Action: "s3:DeleteObjectVersion",
			Resource: "arn:aws:s3:::immutable-edge-prod-alb-logs-20261123000000000001/alb/AWSLogs/" + acct + "/x.log.gz"}},
		{"other stacks' state", "dev", iampolicy.Request{Action: "s3:DeleteObjectVersion", Resource: stateObject("stacks/immutable-edge/prod.json")}},
		{"the state bucket's versions", "dev", iampolicy.Request{Action: "s3:ListBucketVersions", Resource: "arn:aws:s3:::immutable-edge-state-" + plan.UniqueSuffix}},
		{"deleting its own access logs", "prod", iampolicy.Request{Action: "s3:DeleteObject",
			Resource: "arn:aws:s3:::immutable-edge-prod-alb-logs-20261123000000000001/alb/AWSLogs/" + acct + "/x.log.gz"}},
		{"deregistering an image of another channel", "dev", iampolicy.Request{Action: "ec2:DeregisterImage", Resource: image("image/ami-1"),
			Context: tagged("immutable-edge", "prod")}},
		{"deleting a snapshot of another project", "dev", iampolicy.Request{Action: "ec2:DeleteSnapshot", Resource: image("snapshot/snap-1"),
			Context: tagged("someone-else", "dev")}},
		{"deregistering an untagged image", "dev", iampolicy.Request{Action: "ec2:DeregisterImage", Resource: image("image/ami-1"), Context: inRegion}},
		{"deregistering images (prod builds none)", "prod", iampolicy.Request{Action: "ec2:DeregisterImage", Resource: image("image/ami-1"),
			Context: tagged("immutable-edge", "prod")}},
		{"reading parameters outside the project", "dev", iampolicy.Request{Action: "ssm:GetParametersByPath", Resource: arn("ssm", "parameter/other")}},
		{"reading every parameter", "dev", iampolicy.Request{Action: "ssm:GetParametersByPath", Resource: arn("ssm", "parameter/")}},
		{"writing dev's AMI parameter", "prod", iampolicy.Request{Action: "ssm:PutParameter", Resource: arn("ssm", "parameter/immutable-edge/dev/ami-id")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.False(t, allows(t, tc.req, deployDocs(t, tc.stack)), "%s deploy role may %s on %s", tc.stack, tc.req.Action, tc.req.Resource)
		})
	}
	// What prod may do with dev's channel: read it, and pin and unpin the image it promotes
	// with its own tag key only (images/promote.sh).
	require.True(t, allows(t, iampolicy.Request{Action: "ssm:GetParameter", Resource: arn("ssm", "parameter/immutable-edge/dev/ami-id")}, deployDocs(t, "prod")))
	pin := func(action, keys string) iampolicy.Request {
		c := tagged("immutable-edge", "dev")
		c["aws:TagKeys"] = keys
		return iampolicy.Request{Action: action, Resource: image("image/ami-1"), Context: c}
	}
	for _, action := range []string{"ec2:CreateTags", "ec2:DeleteTags"} {
		require.True(t, allows(t, pin(action, PinTag("prod")), deployDocs(t, "prod")), action)
		require.False(t, allows(t, pin(action, "Channel"), deployDocs(t, "prod")), "%s of the tags that say whose it is", action)
		require.False(t, allows(t, pin(action, PinTag("dev")), deployDocs(t, "prod")), "%s of another stack's pin", action)
	}
	pinned := tagged("immutable-edge", "dev")
	pinned["aws:ResourceTag/"+PinTag("prod")] = "/immutable-edge/prod/ami-id"
	require.False(t, allows(t, iampolicy.Request{Action: "ec2:DeregisterImage", Resource: image("image/ami-1"), Context: pinned}, deployDocs(t, "dev")),
		"the image prod's parameter names is pinned: dev's retention cannot deregister it")
	// A key's Stack tag grants nothing: any role can put it on an untagged key (KMS's
	// tag-on-create grant must take every key), so no identity policy administers a key, even
	// one tagged the stack's; the stack's own key policy does.
	for _, stack := range committedStacks(t) {
		key := "arn:aws:kms:" + region + ":" + acct + ":key/0123abcd-other"
		tagged := map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": stack}
		for _, action := range []string{"kms:CreateAlias", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UntagResource", "kms:DisableKeyRotation"} {
			require.False(t, allows(t, iampolicy.Request{Action: action, Resource: key, Context: tagged}, deployDocs(t, stack)), "%s: %s by tag", stack, action)
		}
		keys := stackKeys(t, mainPlan(t, stack))
		require.Len(t, keys, 1)
		for own := range keys {
			require.True(t, deployAllows(t, stack, keys, iampolicy.Request{Action: "kms:PutKeyPolicy", Resource: own, Context: tagged}, deployDocs(t, stack)))
			other := "prod"
			if stack == "prod" {
				other = "dev"
			}
			require.False(t, deployAllows(t, other, keys, iampolicy.Request{Action: "kms:PutKeyPolicy", Resource: own, Context: tagged}, deployDocs(t, other)),
				"%s's key administered by %s's role", stack, other)
		}
	}
	// What dev may retire: its own channel's images, tagged so by Packer.
	require.True(t, allows(t, iampolicy.Request{Action: "ec2:DeregisterImage", Resource: image("image/ami-1"), Context: tagged("immutable-edge", "dev")}, deployDocs(t, "dev")))
}

// TestPreviewRoleCoversPreviews: a pull request's preview of each stack (no refresh) makes the
// provider read the data sources and run each resource's diff code; the preview role must
// allow every call of those (from the derived table).
func TestPreviewRoleCoversPreviews(t *testing.T) {
	table := apiTable(t)
	docs := policies(t, "immutable-edge-preview")
	for _, stack := range committedStacks(t) {
		needs, err := permissions.PreviewNeeds(table, mainPlan(t, stack))
		require.NoError(t, err)
		require.NotEmpty(t, needs)
		for _, n := range needs {
			require.True(t, allows(t, n.Request, docs), "preview role may not %s on %s for %s", n.Request.Action, n.Request.Resource, n.From)
		}
		t.Logf("%s: a preview sends %d requests (%d actions), all allowed", stack, len(needs), len(permissions.Actions(needs)))
	}
}

func TestPreviewRoleOnlyReads(t *testing.T) {
	docs := policies(t, "immutable-edge-preview")
	for _, st := range docs[0].Statement {
		require.Equal(t, "Allow", st.Effect)
		for _, a := range st.Action {
			_, verb, _ := strings.Cut(a, ":")
			require.True(t, slices.ContainsFunc([]string{"Describe", "Get", "List", "View", "Decrypt"}, func(p string) bool {
				return strings.HasPrefix(verb, p)
			}), "preview role may %s", a)
		}
	}
	require.True(t, allows(t, iampolicy.Request{Action: "s3:GetObject", Resource: stateObject("stacks/immutable-edge/prod.json")}, docs))
	require.True(t, allows(t, iampolicy.Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:eu-central-1:" + plan.Account + ":parameter/immutable-edge/prod/ami-id"}, docs))
	require.False(t, allows(t, iampolicy.Request{Action: "s3:PutObject", Resource: stateObject("stacks/immutable-edge/prod.json")}, docs))
	require.False(t, allows(t, iampolicy.Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:eu-central-1:" + plan.Account + ":parameter/other/secret"}, docs))
}

// TestBoundaryCoversTheStacksRoles checks every statement of every inline role policy the main
// program plans against the stack's boundary: a runtime permission the boundary lacks would
// fail silently on AWS (the instance's call is denied), so it fails here instead.
func TestBoundaryCoversTheStacksRoles(t *testing.T) {
	for _, stack := range committedStacks(t) {
		boundary := policies(t, "immutable-edge-"+stack+"-boundary")
		ctx := map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": stack, "cloudwatch:namespace": "ImmutableEdge/" + stack,
			"kms:ViaService": "s3." + region + ".amazonaws.com"}
		n := 0
		for _, rp := range mainPlan(t, stack).OfType("aws:iam/rolePolicy:RolePolicy") {
			for _, st := range doc(t, rp.Str("policy")).Statement {
				for _, reqCtx := range statementContexts(ctx, st) {
					for _, a := range st.Action {
						for _, res := range st.Resource {
							require.True(t, allows(t, iampolicy.Request{Action: a, Resource: res, Context: reqCtx}, boundary),
								"%s boundary lacks %s on %s (%s %s, %v)", stack, a, res, rp.Name, st.Sid, reqCtx)
							n++
						}
					}
				}
			}
		}
		require.Greater(t, n, 20)
		require.False(t, allows(t, iampolicy.Request{Action: "iam:CreateUser", Resource: "*"}, boundary))
		require.False(t, allows(t, iampolicy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::immutable-edge-other-certs/x"}, boundary))
	}
}

// TestStacksMatchTheMainProgram keeps account/Pulumi.account.yaml and Pulumi.<stack>.yaml in
// step: the zone, the region, who builds images, and the boundary each stack names.
func TestStacksMatchTheMainProgram(t *testing.T) {
	acct := committed(t)
	var stacks []Stack
	require.NoError(t, json.Unmarshal([]byte(acct["immutable-edge-account:stacks"]), &stacks))
	boundaries := accountPlan(t).Outputs["permissionsBoundaries"].(map[string]string)
	for _, st := range stacks {
		main, err := plan.ReadConfigFile(filepath.Join(here, "..", "Pulumi."+st.Name+".yaml"))
		require.NoError(t, err)
		require.Equal(t, acct["aws:region"], main["aws:region"], st.Name)
		require.Equal(t, main["immutable-edge:hostedZoneId"], st.HostedZoneID, st.Name)
		var image struct {
			Build bool `json:"build"`
		}
		require.NoError(t, json.Unmarshal([]byte(main["immutable-edge:image"]), &image))
		require.Equal(t, image.Build, st.BuildsImage, st.Name)
		require.Equal(t, main["immutable-edge:edge"] == "alb", st.LoadBalanced(), "%s: edge differs, so its deploy role cannot request the ALB's certificate (or can for no reason)", st.Name)
		require.Equal(t, main["immutable-edge:protect"] == "false", st.Disposable(), "%s: protect differs, so its deploy role cannot empty what its destroy empties (or can for no reason)", st.Name)
		require.Equal(t, main["immutable-edge:permissionsBoundary"], boundaries[st.Name], st.Name)
		require.Equal(t, boundaries[st.Name], "arn:aws:iam::"+plan.Account+":policy/immutable-edge/"+find(t, accountPlan(t), tPolicy, "immutable-edge-"+st.Name+"-boundary").Str("name"))
	}
}

// TestPoliciesFitIAMLimits: a customer managed policy may hold 6,144 characters without
// whitespace; IAM rejects a larger one only at deploy time.
func TestPoliciesFitIAMLimits(t *testing.T) {
	for _, pol := range accountPlan(t).OfType(tPolicy) {
		n := len(strings.Join(strings.Fields(pol.Str("policy")), ""))
		require.LessOrEqual(t, n, 6144, pol.Name)
		t.Logf("%-36s %5d of 6144 characters", pol.Name, n)
	}
	require.LessOrEqual(t, len(accountPlan(t).OfType(tAttachment)), 10*3, "at most 10 managed policies per role")
}

// TestStackRolesCannotChangeTheAccountStack asks the table for every request the account
// program's own lifecycle sends (the OIDC provider, the deploy and preview roles, the
// boundaries, the state bucket and key) and expects each stack's deploy role and the preview
// role to refuse every one that changes something: no stack role can rewrite what bounds it.
func TestStackRolesCannotChangeTheAccountStack(t *testing.T) {
	table := apiTable(t)
	needs, _ := stackNeeds(t, table, accountPlan(t))
	roles := map[string][]iampolicy.Document{"preview": policies(t, "immutable-edge-preview")}
	for _, stack := range committedStacks(t) {
		roles[stack+" deploy"] = deployDocs(t, stack)
	}
	writes := 0
	for _, n := range needs {
		if level := table.Actions[n.Request.Action].AccessLevel; !strings.Contains(level, "Write") && !strings.Contains(level, "Permissions") {
			continue
		}
		writes++
		for role, docs := range roles {
			require.False(t, allows(t, n.Request, docs), "the %s role may %s on %s (%s)", role, n.Request.Action, n.Request.Resource, n.From)
		}
	}
	require.Greater(t, writes, 50)
	t.Logf("account program: %d requests, %d of them changes (%d actions), all refused to the stack and preview roles",
		len(needs), writes, len(permissions.Actions(needs)))
}

// stackNeeds is permissions.Needs for a test.
func stackNeeds(t *testing.T, table *awsapi.Table, p *plan.Plan) ([]permissions.Need, []string) {
	t.Helper()
	needs, excluded, err := permissions.Needs(table, p)
	require.NoError(t, err)
	return needs, excluded
}

// committedStacks are the main program's stacks, one per Pulumi.<stack>.yaml.
func committedStacks(t *testing.T) []string {
	t.Helper()
	t.Chdir(filepath.Join(here, ".."))
	names, err := plan.Stacks()
	require.NoError(t, err)
	require.Contains(t, names, "prod")
	return names
}

// statementContexts are the request contexts a statement is used in: the base context with
// each value of the statement's StringEquals conditions in turn (SecretsKey's kms:ViaService is
// SSM or Secrets Manager, never the base context's S3).
func statementContexts(base map[string]string, st iampolicy.Statement) []map[string]string {
	out := []map[string]string{base}
	for k, v := range st.Condition["StringEquals"] {
		values, ok := v.([]any)
		if !ok {
			values = []any{v}
		}
		var next []map[string]string
		for _, c := range out {
			for _, one := range values {
				s, isString := one.(string)
				if !isString {
					continue
				}
				m := maps.Clone(c)
				m[k] = s
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}
