package policy

import (
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const tTable = "aws:dynamodb/table:Table"

// jobRules are checkov's and Security Hub's (FSBP) checks of the jobs' firings table. Where the
// stack keeps no data (protect false), deletion protection fails and is waived in its config.
var jobRules = []Rule{
	{ID: "CKV_AWS_28", Ref: "checkov CKV_AWS_28; FSBP DynamoDB.2", Severity: Medium,
		Rationale: "Point-in-time recovery keeps the table's last 35 days.",
		check: each([]string{tTable}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("pointInTimeRecovery.enabled"), "point-in-time recovery", "no point-in-time recovery")
		})},
	{ID: "CKV_AWS_119", Ref: "checkov CKV_AWS_119", Severity: Medium,
		Rationale: "The table is encrypted with the stack's key, not an AWS-owned one.",
		check: each([]string{tTable}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("serverSideEncryption.enabled") && r.Str("serverSideEncryption.kmsKeyArn") != "",
				"encrypted with "+r.Str("serverSideEncryption.kmsKeyArn"), "encrypted with an AWS-owned key")
		})},
	{ID: "DynamoDB.6", Ref: "FSBP DynamoDB.6", Severity: Low,
		Rationale: "Deletion protection keeps the table through a mistaken destroy.",
		check: each([]string{tTable}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("deletionProtectionEnabled"), "deletion protection", "no deletion protection")
		})},
}
