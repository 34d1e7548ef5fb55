package setup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// Roles are what the refusal table is weighed against: each role's identity policies (the
// deploy roles by stack, "preview" for the pull-request role) and the key policies by key ARN.
// The account program's plan provides them (tests, cmd/docgen).
type Roles struct {
	Account, Region, Project string
	Identity                 map[string][]iampolicy.Document
	Keys                     map[string]iampolicy.Document
	StateBucket, StateKey    string
	SecretsKeys              map[string]string // by stack
	StackKeys                map[string]string // the main program's key of each stack, by stack
}

// Principal is the ARN of a role of the table ("preview" or a stack's deploy role).
func (r Roles) Principal(role string) string {
	if role == "preview" {
		return "arn:aws:iam::" + r.Account + ":role/" + r.Project + "/" + r.Project + "-preview"
	}
	return config.DeployRoleARN("aws", r.Account, r.Project, role)
}

// Decide weighs a request of a role as IAM does (identity and key policies; the roles carry no
// boundary).
func (r Roles) Decide(role string, req iampolicy.Request) (bool, string, error) {
	docs, ok := r.Identity[role]
	if !ok {
		return false, "", fmt.Errorf("no role %q", role)
	}
	a := iampolicy.Access{Principal: r.Principal(role), Account: r.Account, Identity: docs}
	if k, ok := r.Keys[req.Resource]; ok {
		a.Key = []iampolicy.Document{k}
	}
	return iampolicy.Decide(req, a)
}

// Attempt is one row of the refusal table: a request a compromised or mistaken workflow of
// another stack (or a pull request) might send, which must be refused. Own is the same kind of
// request on the right stack's resource, which must be allowed (so no blanket deny passes);
// Loosen removes the guard that refuses it, after which it must be allowed (so the guard is
// what bites).
type Attempt struct {
	Family, Name, Role string
	Request            iampolicy.Request
	Why                string
	OwnRole            string
	Own                *iampolicy.Request
	Guard              string
	Loosen             func(Roles) Roles
}

// Attempts is the refusal table: cross-stack and escalation attempts against the roles of the
// committed account stack (dev builds images, prod promotes from dev).
func Attempts(r Roles) []Attempt {
	reg := func(service, resource string) string {
		return "arn:aws:" + service + ":" + r.Region + ":" + r.Account + ":" + resource
	}
	image := func(resource string) string { return "arn:aws:ec2:" + r.Region + "::" + resource }
	tags := func(kv ...string) map[string]string {
		c := map[string]string{"aws:RequestedRegion": r.Region}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	req := func(action, resource string, ctx map[string]string) iampolicy.Request {
		return iampolicy.Request{Action: action, Resource: resource, Context: ctx}
	}
	own := func(x iampolicy.Request) *iampolicy.Request { return &x }
	merge := func(a, b map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range []map[string]string{a, b} {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	bucket := "arn:aws:s3:::" + r.StateBucket
	channel := func(stack string) map[string]string {
		return tags("aws:ResourceTag/Project", r.Project, "aws:ResourceTag/Channel", stack, "aws:ResourceTag/Stack", stack)
	}
	viaS3 := tags("kms:ViaService", "s3."+r.Region+".amazonaws.com")
	return []Attempt{
		{"EC2 image", "deregistering prod's AMI", "dev", req("ec2:DeregisterImage", image("image/ami-prod"), channel("prod")),
			"an image of prod's channel; dev retires only its own", "dev", own(req("ec2:DeregisterImage", image("image/ami-dev"), channel("dev"))),
			"RetireChannelImages: aws:ResourceTag/Channel, Stack", loosen("dev", "RetireChannelImages", "aws:ResourceTag/Channel", "aws:ResourceTag/Stack")},
		{"EC2 image", "deregistering the AMI prod runs", "dev",
			req("ec2:DeregisterImage", image("image/ami-promoted"), merge(channel("dev"), tags("aws:ResourceTag/"+PinTag("prod"), "2026-12-01"))),
			"dev built it, but prod's promotion pinned it: prod's parameter names it", "dev", own(req("ec2:DeregisterImage", image("image/ami-promoted"), channel("dev"))),
			"RetireChannelImages: aws:ResourceTag/" + PinTag("prod"), loosen("dev", "RetireChannelImages", "aws:ResourceTag/"+PinTag("prod"))},
		{"EC2 image", "taking dev's image through the pin", "prod",
			req("ec2:CreateTags", image("image/ami-promoted"), merge(channel("dev"), tags("aws:TagKeys", PinTag("prod")+",Stack", "aws:RequestTag/Stack", "prod"))),
			"prod may set only its pin, never the tags that say whose an image is", "prod",
			own(req("ec2:CreateTags", image("image/ami-promoted"), merge(channel("dev"), tags("aws:TagKeys", PinTag("prod"))))),
			"PinPromotedImage: aws:TagKeys", loosen("prod", "PinPromotedImage", "aws:TagKeys")},
		{"EC2 image", "claiming an untagged AMI", "dev", req("ec2:CreateTags", image("image/ami-old"), tags("aws:RequestTag/Stack", "dev", "aws:RequestTag/Channel", "dev")),
			"tagging an untagged image dev's would let dev deregister it", "dev",
			own(req("ec2:CreateTags", image("image/ami-dev"), tags("aws:ResourceTag/Stack", "dev", "aws:RequestTag/Stack", "dev"))),
			"RetagOwnec2: aws:ResourceTag/Stack", loosen("dev", "RetagOwnec2", "aws:ResourceTag/Stack")},
		{"EC2 snapshot", "deleting an untagged snapshot", "dev", req("ec2:DeleteSnapshot", image("snapshot/snap-1"), tags()),
			"a snapshot of no stack's", "dev", own(req("ec2:DeleteSnapshot", image("snapshot/snap-dev"), channel("dev"))),
			"RetireChannelSnapshots: aws:ResourceTag/*", loosen("dev", "RetireChannelSnapshots", "aws:ResourceTag/Project", "aws:ResourceTag/Channel", "aws:ResourceTag/Stack")},
		{"EC2 instance", "terminating an untagged instance", "dev", req("ec2:TerminateInstances", reg("ec2", "instance/i-1"), tags()),
			"an instance of no stack's", "dev", own(req("ec2:TerminateInstances", reg("ec2", "instance/i-dev"), tags("aws:ResourceTag/Stack", "dev"))),
			"BuildOwn: aws:ResourceTag/Stack", loosen("dev", "BuildOwn", "aws:ResourceTag/Stack")},
		{"EC2 instance", "launching into prod's subnet", "dev", req("ec2:RunInstances", reg("ec2", "subnet/subnet-prod"),
			tags("aws:RequestTag/Stack", "dev", "aws:ResourceTag/Stack", "prod")),
			"the subnet is a parent of the launch: authorised by its own tag, not the new instance's", "prod",
			own(req("ec2:RunInstances", reg("ec2", "subnet/subnet-prod"), tags("aws:RequestTag/Stack", "prod", "aws:ResourceTag/Stack", "prod"))),
			"NewInSubnet lists no subnet type", widen("dev", "NewInSubnet", reg("ec2", "subnet/*"))},
		{"EC2 VPC", "deleting an untagged VPC", "dev", req("ec2:DeleteVpc", reg("ec2", "vpc/vpc-1"), tags()),
			"a VPC of no stack's", "dev", own(req("ec2:DeleteVpc", reg("ec2", "vpc/vpc-dev"), tags("aws:ResourceTag/Stack", "dev"))),
			"OwnNetwork: aws:ResourceTag/Stack", loosen("dev", "OwnNetwork", "aws:ResourceTag/Stack")},
		{"EC2 VPC", "a subnet in prod's VPC", "dev", req("ec2:CreateSubnet", reg("ec2", "vpc/vpc-prod"), tags("aws:RequestTag/Stack", "dev", "aws:ResourceTag/Stack", "prod")),
			"the new subnet is tagged dev's, the VPC is prod's", "prod",
			own(req("ec2:CreateSubnet", reg("ec2", "vpc/vpc-prod"), tags("aws:RequestTag/Stack", "prod", "aws:ResourceTag/Stack", "prod"))),
			"NewInVpc lists no vpc type", widen("dev", "NewInVpc", reg("ec2", "vpc/*"))},
		{"EC2 VPC", "opening prod's security group", "dev", req("ec2:AuthorizeSecurityGroupIngress", reg("ec2", "security-group/sg-prod"),
			tags("aws:RequestTag/Stack", "dev", "aws:ResourceTag/Stack", "prod")),
			"a rule tagged dev's on prod's group", "prod", own(req("ec2:AuthorizeSecurityGroupIngress", reg("ec2", "security-group/sg-prod"),
				tags("aws:RequestTag/Stack", "prod", "aws:ResourceTag/Stack", "prod"))),
			"NewRules lists only security-group-rule", widen("dev", "NewRules", reg("ec2", "security-group/*"))},
		{"KMS", "retagging prod's key", "dev", req("kms:TagResource", r.StackKeys["prod"], tags("aws:RequestTag/Stack", "dev", "aws:ResourceTag/Stack", "prod")),
			"a key tagged dev's would read as dev's", "prod",
			own(req("kms:TagResource", r.StackKeys["prod"], tags("aws:RequestTag/Stack", "prod", "aws:ResourceTag/Stack", "prod"))),
			"TagNewKey: Null aws:ResourceTag/Stack", loosen("dev", "TagNewKey", "aws:ResourceTag/Stack")},
		{"KMS", "retagging the state key", "prod", req("kms:TagResource", r.StateKey, tags("aws:RequestTag/Stack", "prod", "aws:ResourceTag/Stack", AccountStack)),
			"the account's keys carry Stack=account", "", nil,
			"TagNewKey: Null aws:ResourceTag/Stack", loosen("prod", "TagNewKey", "aws:ResourceTag/Stack")},
		{"KMS", "rewriting an untagged key's policy", "dev", req("kms:PutKeyPolicy", reg("kms", "key/other"), tags()),
			"a key of no stack's", "dev", own(req("kms:PutKeyPolicy", r.StackKeys["dev"], tags("aws:ResourceTag/Stack", "dev"))),
			"no identity grant on an existing key", grant("dev", "kms:PutKeyPolicy")},
		{"KMS", "rewriting a key dev tagged its own", "dev", req("kms:PutKeyPolicy", reg("kms", "key/other"), tags("aws:ResourceTag/Stack", "dev")),
			"tag-on-create must take any untagged key (KMS), so a key's Stack tag grants nothing", "dev",
			own(req("kms:PutKeyPolicy", r.StackKeys["dev"], tags("aws:ResourceTag/Stack", "dev"))),
			"only the key's own policy administers it (no ManageKey by tag)", restore("dev", manageKeyByTag("dev", r.Region))},
		{"KMS", "its alias on a foreign key", "dev", req("kms:CreateAlias", reg("kms", "key/other"), tags("aws:ResourceTag/Stack", "dev")),
			"an alias under dev's prefix would make the key look dev's", "dev",
			own(req("kms:CreateAlias", r.StackKeys["dev"], tags("aws:ResourceTag/Stack", "dev"))),
			"the key side of CreateAlias only in the key's policy", grant("dev", "kms:CreateAlias")},
		{"KMS", "scheduling prod's key for deletion", "dev", req("kms:ScheduleKeyDeletion", r.StackKeys["prod"], tags("aws:ResourceTag/Stack", "prod")),
			"prod's key", "prod", own(req("kms:ScheduleKeyDeletion", r.StackKeys["prod"], tags("aws:ResourceTag/Stack", "prod"))),
			"prod's key policy names prod's role", admitToKey(r.StackKeys["prod"], "DeployRoleAdministers", r.Principal("dev"))},
		{"ACM", "retagging prod's certificate", "dev", req("acm:AddTagsToCertificate", reg("acm", "certificate/prod"),
			tags("aws:RequestTag/Stack", "dev", "aws:ResourceTag/Stack", "prod")),
			"a certificate tagged dev's is dev's to delete", "prod", own(req("acm:AddTagsToCertificate", reg("acm", "certificate/prod"),
				tags("aws:RequestTag/Stack", "prod", "aws:ResourceTag/Stack", "prod"))),
			"ACM writes only for edge alb", grant("dev", "acm:AddTagsToCertificate")},
		{"ACM", "claiming an untagged certificate", "dev", req("acm:AddTagsToCertificate", reg("acm", "certificate/other"), tags("aws:RequestTag/Stack", "dev")),
			"its tag-on-create grant takes untagged certificates; dev requests none", "", nil,
			"ACM writes only for edge alb", grant("dev", "acm:AddTagsToCertificate")},
		{"IAM", "rewriting its own trust policy", "dev", req("iam:UpdateAssumeRolePolicy", r.Principal("dev"), nil),
			"a trust policy that lets any workflow (or account) assume the deploy role", "", nil,
			"AccountRolesAreFixed (deny)", widenAndDrop("dev", "RoleUpkeep", "arn:aws:iam::"+r.Account+":role/"+r.Project+"/*", "AccountRolesAreFixed")},
		{"IAM", "a policy on prod's deploy role", "dev", req("iam:PutRolePolicy", r.Principal("prod"),
			map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::" + r.Account + ":policy/" + r.Project + "/" + r.Project + "-dev-boundary"}),
			"a sibling's role", "", nil,
			"AccountRolesAreFixed (deny)", widenAndDrop("dev", "BoundedRoles", "arn:aws:iam::"+r.Account+":role/"+r.Project+"/*", "AccountRolesAreFixed")},
		{"S3", "rewriting the backend's layout", "dev", req("s3:PutObject", bucket+"/.pulumi/meta.yaml", nil),
			"the layout file decides where every stack's state is read", "dev", own(req("s3:PutObject", bucket+"/.pulumi/stacks/"+r.Project+"/dev.json", nil)),
			"StateObjects: the stack's own paths", widen("dev", "StateObjects", bucket+"/.pulumi/*")},
		{"S3", "reading the account stack's state", "preview", req("s3:GetObject", bucket+"/.pulumi/stacks/"+Project+"/"+AccountStack+".json", nil),
			"the account stack's checkpoint", "preview", own(req("s3:GetObject", bucket+"/.pulumi/stacks/"+r.Project+"/prod.json", nil)),
			"StateObjects: the main program's checkpoints", widen("preview", "StateObjects", bucket+"/.pulumi/*")},
		{"S3", "prod's bucket policy", "dev", req("s3:PutBucketPolicy", "arn:aws:s3:::"+r.Project+"-prod-alb-logs-1", nil),
			"another stack's bucket", "prod", own(req("s3:PutBucketPolicy", "arn:aws:s3:::"+r.Project+"-prod-alb-logs-1", nil)),
			"Buckets: <project>-<stack>-*", widen("dev", "Buckets", "arn:aws:s3:::"+r.Project+"-*")},
		{"S3", "the state bucket's public access block", "dev", req("s3:PutBucketPublicAccessBlock", bucket, nil),
			"the backend of every stack", "", nil,
			"Buckets: <project>-<stack>-*", widen("dev", "Buckets", "arn:aws:s3:::"+r.Project+"-*")},
		{"SSM", "prod's AMI parameter", "dev", req("ssm:PutParameter", reg("ssm", "parameter/"+r.Project+"/prod/ami-id"), nil),
			"prod would launch what dev names", "prod", own(req("ssm:PutParameter", reg("ssm", "parameter/"+r.Project+"/prod/ami-id"), nil)),
			"Parameters: /<project>/<stack>/*", widen("dev", "Parameters", reg("ssm", "parameter/"+r.Project+"/*"))},
		{"CloudWatch", "writing prod's metrics", "dev", req("cloudwatch:PutMetricData", "*", tags("cloudwatch:namespace", config.MetricNamespace("prod"))),
			"prod's alarms read these; no deploy role publishes metrics", "", nil,
			"no grant", grant("dev", "cloudwatch:PutMetricData")},
		{"CloudWatch", "deleting prod's alarms", "dev", req("cloudwatch:DeleteAlarms", reg("cloudwatch", "alarm:"+r.Project+"-prod-cpu"), nil),
			"prod's alarms", "prod", own(req("cloudwatch:DeleteAlarms", reg("cloudwatch", "alarm:"+r.Project+"-prod-cpu"), nil)),
			"Alarms: <project>-<stack>-*", widen("dev", "Alarms", reg("cloudwatch", "alarm:"+r.Project+"-*"))},
		{"Secrets", "decrypting prod's secrets as preview", "preview", req("kms:Decrypt", r.SecretsKeys["prod"], nil),
			"pull requests run unreviewed code", "prod", own(req("kms:Decrypt", r.SecretsKeys["prod"], nil)),
			"no grant, and the key's OnlyThisStacksRoles (deny)", grantKeyAndDrop("preview", r.SecretsKeys["prod"])},
		{"Secrets", "decrypting prod's secrets as dev", "dev", req("kms:Decrypt", r.SecretsKeys["prod"], nil),
			"dev deploys from any push to main, unreviewed", "prod", own(req("kms:Decrypt", r.SecretsKeys["prod"], nil)),
			"no grant, and the key's OnlyThisStacksRoles (deny)", grantKeyAndDrop("dev", r.SecretsKeys["prod"])},
		{"Secrets", "the state key outside S3", "preview", req("kms:Decrypt", r.StateKey, nil),
			"the account stack's secrets are encrypted with it", "preview", own(req("kms:Decrypt", r.StateKey, viaS3)),
			"StateKey: kms:ViaService", loosen("preview", "StateKey", "kms:ViaService")},
	}
}

// mutate returns a copy of the roles with one role's statements changed by f.
func mutate(r Roles, role string, f func(st *iampolicy.Statement) bool) Roles {
	out := r
	out.Identity = map[string][]iampolicy.Document{}
	for k, docs := range r.Identity {
		out.Identity[k] = docs
	}
	var docs []iampolicy.Document
	for _, d := range r.Identity[role] {
		nd := iampolicy.Document{Version: d.Version}
		for _, st := range d.Statement {
			st.Condition = cloneCond(st.Condition)
			st.Resource = slices.Clone(st.Resource)
			if f(&st) {
				nd.Statement = append(nd.Statement, st)
			}
		}
		docs = append(docs, nd)
	}
	out.Identity[role] = docs
	return out
}

func cloneCond(c cond) cond {
	if c == nil {
		return nil
	}
	out := cond{}
	for op, kv := range c {
		out[op] = map[string]any{}
		for k, v := range kv {
			out[op][k] = v
		}
	}
	return out
}

// loosen drops the named condition keys from a statement.
func loosen(role, sid string, keys ...string) func(Roles) Roles {
	return func(r Roles) Roles {
		return mutate(r, role, func(st *iampolicy.Statement) bool {
			if st.Sid == sid {
				for op := range st.Condition {
					for _, k := range keys {
						delete(st.Condition[op], k)
					}
				}
			}
			return true
		})
	}
}

// widen adds a resource pattern to a statement.
func widen(role, sid, resource string) func(Roles) Roles {
	return func(r Roles) Roles {
		return mutate(r, role, func(st *iampolicy.Statement) bool {
			if st.Sid == sid {
				st.Resource = append(st.Resource, resource)
			}
			return true
		})
	}
}

// widenAndDrop widens an allow and drops a deny: the deny is what holds once the allow is broad.
func widenAndDrop(role, sid, resource, denySid string) func(Roles) Roles {
	return func(r Roles) Roles {
		return mutate(widen(role, sid, resource)(r), role, func(st *iampolicy.Statement) bool { return st.Sid != denySid })
	}
}

// restore adds a statement to a role's policies: one the role once had.
func restore(role string, st iampolicy.Statement) func(Roles) Roles {
	return func(r Roles) Roles {
		out := mutate(r, role, func(*iampolicy.Statement) bool { return true })
		out.Identity[role] = append(out.Identity[role], iampolicy.New(st))
		return out
	}
}

// manageKeyByTag is the grant the deploy roles had before a key's policy administered it: key
// management on any key tagged the stack's.
func manageKeyByTag(stack, region string) iampolicy.Statement {
	return allow("ManageKey", []string{"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"},
		[]string{"arn:aws:kms:" + region + ":*:key/*"}, cond{"StringEquals": {"aws:ResourceTag/Stack": stack}})
}

// withKeyPolicy returns a copy of the roles with one key's policy statements changed by f
// (dropped when it returns false).
func withKeyPolicy(r Roles, key string, f func(st *iampolicy.Statement) bool) Roles {
	out := r
	out.Keys = map[string]iampolicy.Document{}
	for k, d := range r.Keys {
		if k == key {
			nd := iampolicy.Document{Version: d.Version}
			for _, st := range d.Statement {
				if f(&st) {
					nd.Statement = append(nd.Statement, st)
				}
			}
			d = nd
		}
		out.Keys[k] = d
	}
	return out
}

// admitToKey adds a principal to a key policy's statement.
func admitToKey(key, sid, principal string) func(Roles) Roles {
	return func(r Roles) Roles {
		return withKeyPolicy(r, key, func(st *iampolicy.Statement) bool {
			if st.Sid == sid {
				st.Principal = map[string]any{"AWS": []any{st.Principal["AWS"], principal}}
			}
			return true
		})
	}
}

// grant adds an unconditional grant of the action: the request is refused for want of one.
func grant(role, action string) func(Roles) Roles {
	return restore(role, allow("Mutant", []string{action}, all, nil))
}

// grantKeyAndDrop grants the key in the role's policy and drops the key policy's deny: both
// guard it, so only both removed let the request through.
func grantKeyAndDrop(role, key string) func(Roles) Roles {
	return func(r Roles) Roles {
		return withKeyPolicy(grant(role, "kms:Decrypt")(r), key, func(st *iampolicy.Statement) bool { return st.Effect != "Deny" })
	}
}

// RefusalTable renders the table for the docs: every attempt, whom it is refused to, and why.
func RefusalTable(r Roles) (string, error) {
	var b strings.Builder
	b.WriteString("| family | attempt | role | request | refused because | guard |\n|---|---|---|---|---|---|\n")
	n := 0
	for _, a := range Attempts(r) {
		ok, _, err := r.Decide(a.Role, a.Request)
		if err != nil {
			return "", err
		}
		if ok {
			return "", fmt.Errorf("%s: the %s role may %s on %s", a.Name, a.Role, a.Request.Action, a.Request.Resource)
		}
		n++
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` on `%s` | %s | %s |\n", a.Family, a.Name, a.Role, a.Request.Action, a.Request.Resource, a.Why, a.Guard)
	}
	fmt.Fprintf(&b, "\n%d attempts, all refused.\n", n)
	return b.String(), nil
}
