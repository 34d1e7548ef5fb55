package observability

import (
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// principals writes the key and topic policies: the account administers; CloudWatch alarms,
// EventBridge rules and AWS Budgets may publish; CloudWatch Logs may encrypt the stack's log
// groups only. The topic holds CloudWatch and Budgets to this account and to the stack's own
// alarms by name. EventBridge's statement carries no condition because EventBridge does not
// deliver to a topic whose statement for it has one (its user guide), and the key's statements
// for the publishers carry none because a condition AWS does not pass would drop alerts silently;
// the topic policy is the gate.
type principals struct {
	partition, region, account, qualifier string
	administrator                         string // the deploy role; only the key's keyPolicy names it
}

// keyAdministration is what the deploy role does to the stack's key over its lifecycle beyond
// reading it (the provider's calls for aws_kms_key and aws_kms_alias, which account/setup's
// coverage test derives from the provider's source and weighs against this policy).
var keyAdministration = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DisableKeyRotation", "kms:EnableKeyRotation",
	"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
	"kms:UpdateKeyDescription",
}

func (p principals) arn(service, region, resource string) string {
	return "arn:" + p.partition + ":" + service + ":" + region + ":" + p.account + ":" + resource
}

// source is a service that publishes alerts, and the ARNs it may publish from ("" for any).
type source struct{ sid, service, sourceARN string }

func (p principals) sources() []source {
	return []source{
		{"CloudWatchAlarms", "cloudwatch.amazonaws.com", p.arn("cloudwatch", p.region, "alarm:"+p.qualifier+"-*")},
		{"EventBridgeRules", "events.amazonaws.com", ""},
		{"Budgets", "budgets.amazonaws.com", p.arn("budgets", "", "*")},
	}
}

func (p principals) keyPolicy(logGroupPrefix string, serviceLogGroups, services []string) iampolicy.Document {
	logGroups := []string{p.arn("logs", p.region, "log-group:"+logGroupPrefix+"*")}
	for _, g := range serviceLogGroups {
		logGroups = append(logGroups, p.arn("logs", p.region, "log-group:"+g))
	}
	var logARNs any = logGroups[0]
	if len(logGroups) > 1 {
		logARNs = logGroups
	}
	statements := []iampolicy.Statement{{
		// Without it the key could become unmanageable; IAM policies then decide who may use it.
		Sid: "AccountAdministers", Effect: "Allow",
		Principal: map[string]any{"AWS": "arn:" + p.partition + ":iam::" + p.account + ":root"},
		Action:    []string{"kms:*"}, Resource: []string{"*"},
	}, {
		// A key policy that names a role in the key's account is enough on its own
		// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html): the
		// deploy role manages this key because the key says so, which no tag can fake.
		Sid: "DeployRoleAdministers", Effect: "Allow",
		Principal: map[string]any{"AWS": p.administrator},
		Action:    keyAdministration, Resource: []string{"*"},
	}}
	for _, s := range p.sources() {
		statements = append(statements, iampolicy.Statement{
			Sid: s.sid + "Publish", Effect: "Allow",
			Principal: map[string]any{"Service": s.service},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: []string{"*"},
		})
	}
	statements = append(statements, iampolicy.Statement{
		Sid: "CloudWatchLogsEncrypt", Effect: "Allow",
		Principal: map[string]any{"Service": "logs." + p.region + ".amazonaws.com"},
		Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
		Resource:  []string{"*"},
		Condition: map[string]map[string]any{"ArnLike": {
			"kms:EncryptionContext:aws:logs:arn": logARNs,
		}},
	})
	if len(services) > 0 {
		// A resource under a customer managed key (a DynamoDB table, an RDS instance and its
		// managed secret, an ElastiCache group, a secret): the principal that creates it lets the
		// service use the key, through a grant it makes with the caller's permissions
		// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html,
		// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html,
		// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
		via := make([]string, len(services))
		for i, s := range services {
			via[i] = s + "." + p.region + ".amazonaws.com"
		}
		statements = append(statements, iampolicy.Statement{
			Sid: "DeployRoleServices", Effect: "Allow",
			Principal: map[string]any{"AWS": p.administrator},
			Action:    []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": via}},
		})
	}
	return iampolicy.New(statements...)
}

func (p principals) topicPolicy(topicARN string) iampolicy.Document {
	statements := []iampolicy.Statement{{
		Sid: "AccountManages", Effect: "Allow",
		Principal: map[string]any{"AWS": "arn:" + p.partition + ":iam::" + p.account + ":root"},
		Action: []string{
			"sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
			"sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
		},
		Resource: []string{topicARN},
	}}
	for _, s := range p.sources() {
		st := iampolicy.Statement{
			Sid: s.sid + "Publish", Effect: "Allow",
			Principal: map[string]any{"Service": s.service},
			Action:    []string{"sns:Publish"}, Resource: []string{topicARN},
		}
		if s.sourceARN != "" {
			st.Condition = map[string]map[string]any{
				"StringEquals": {"aws:SourceAccount": p.account},
				"ArnLike":      {"aws:SourceArn": s.sourceARN},
			}
		}
		statements = append(statements, st)
	}
	return iampolicy.New(statements...)
}
