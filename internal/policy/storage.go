package policy

import (
	"slices"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const (
	tBucket            = "aws:s3/bucketV2:BucketV2"
	tBucketPolicy      = "aws:s3/bucketPolicy:BucketPolicy"
	tPublicAccessBlock = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tOwnership         = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tEncryption        = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tVersioning        = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tLifecycle         = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	tBucketLogging     = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	tRepository        = "aws:ecr/repository:Repository"
	tRepoLifecycle     = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
)

// bucketPart finds the resource of a type that configures bucket b (its "bucket" input is b's id).
func bucketPart(c *Context, b plan.Resource, token string) (plan.Resource, bool) {
	for _, r := range c.Plan.OfType(token) {
		if r.Str("bucket") == b.ID {
			return r, true
		}
	}
	return plan.Resource{}, false
}

// bucketRule judges each bucket by the part of a type that configures it.
func bucketRule(token, missing string, judge func(part plan.Resource) (bool, string)) func(*Context) []Finding {
	return each([]string{tBucket}, func(c *Context, b plan.Resource) (bool, string) {
		part, ok := bucketPart(c, b, token)
		if !ok {
			return false, missing
		}
		return judge(part)
	})
}

func bucketPolicy(c *Context, b plan.Resource) (iampolicy.Document, bool) {
	part, ok := bucketPart(c, b, tBucketPolicy)
	if !ok {
		return iampolicy.Document{}, false
	}
	doc, err := iampolicy.Parse(part.Str("policy"))
	return doc, err == nil
}

var storageRules = []Rule{
	{ID: "CKV2_AWS_6", Ref: "checkov CKV2_AWS_6, CKV_AWS_53/54/55/56; FSBP S3.8", Severity: High,
		Rationale: "All four public access blocks are on: no ACL or policy can make the bucket public.",
		check: bucketRule(tPublicAccessBlock, "no public access block", func(p plan.Resource) (bool, string) {
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if !p.Bool(k) {
					return false, k + " is off"
				}
			}
			return true, "all four public access blocks on"
		})},
	{ID: "CKV2_AWS_65", Ref: "checkov CKV2_AWS_65; FSBP S3.12", Severity: Medium,
		Rationale: "ACLs are disabled (bucket owner enforced); access is decided by policies alone.",
		check: bucketRule(tOwnership, "no ownership controls", func(p plan.Resource) (bool, string) {
			return verdict(p.Str("rule.objectOwnership") == "BucketOwnerEnforced", "BucketOwnerEnforced", p.Str("rule.objectOwnership"))
		})},
	{ID: "CKV_AWS_19", Ref: "checkov CKV_AWS_19; FSBP S3.4", Severity: High,
		Rationale: "Objects are encrypted at rest by default.",
		check: bucketRule(tEncryption, "no default encryption", func(p plan.Resource) (bool, string) {
			a := p.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm")
			return verdict(a == "AES256" || a == "aws:kms" || a == "aws:kms:dsse", "SSE "+a, "no default encryption")
		})},
	{ID: "CKV_AWS_145", Ref: "checkov CKV_AWS_145", Severity: Low,
		Rationale: "KMS encryption adds key-level access control and an audit trail of decrypts.",
		check: bucketRule(tEncryption, "no default encryption", func(p plan.Resource) (bool, string) {
			a := p.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm")
			return verdict(a == "aws:kms" || a == "aws:kms:dsse", "SSE-KMS", "SSE-S3 ("+a+")")
		})},
	{ID: "CKV_AWS_21", Ref: "checkov CKV_AWS_21; FSBP S3.14", Severity: Medium,
		Rationale: "Versioning keeps an overwritten or deleted object recoverable.",
		check: bucketRule(tVersioning, "no versioning", func(p plan.Resource) (bool, string) {
			return verdict(p.Str("versioningConfiguration.status") == "Enabled", "versioning on", "versioning "+p.Str("versioningConfiguration.status"))
		})},
	{ID: "CKV2_AWS_61", Ref: "checkov CKV2_AWS_61, CKV_AWS_300; FSBP S3.13", Severity: Low,
		Rationale: "A lifecycle expires old versions and aborts incomplete uploads, so storage does not grow unseen.",
		check: bucketRule(tLifecycle, "no lifecycle configuration", func(p plan.Resource) (bool, string) {
			return verdict(p.Num("rules.0.abortIncompleteMultipartUpload.daysAfterInitiation") > 0 && p.Str("rules.0.status") == "Enabled",
				"lifecycle with upload abort", "lifecycle does not abort incomplete uploads")
		})},
	{ID: "CKV_AWS_18", Ref: "checkov CKV_AWS_18; FSBP S3.9", Severity: Low,
		Rationale: "Server access logs record every request to the bucket.",
		check: bucketRule(tBucketLogging, "no server access logging", func(p plan.Resource) (bool, string) {
			return true, "logs to " + p.Str("targetBucket")
		})},
	{ID: "S3.5", Ref: "FSBP S3.5; CIS 2.1.1", Severity: High,
		Rationale: "The bucket refuses requests that are not over TLS.",
		check: each([]string{tBucket}, func(c *Context, b plan.Resource) (bool, string) {
			doc, ok := bucketPolicy(c, b)
			if !ok {
				return false, "no bucket policy"
			}
			for _, st := range doc.Statement {
				if st.Effect == "Deny" && st.Condition["Bool"]["aws:SecureTransport"] == "false" && slices.Contains(st.Action, "s3:*") {
					return true, "denies plain HTTP"
				}
			}
			return false, "no Deny on aws:SecureTransport false"
		})},
	{ID: "CKV_AWS_70", Ref: "checkov CKV_AWS_70; FSBP S3.2/S3.3", Severity: High,
		Rationale: "No bucket policy allows any principal (*); service principals are named.",
		check: each([]string{tBucket}, func(c *Context, b plan.Resource) (bool, string) {
			doc, _ := bucketPolicy(c, b)
			for _, st := range doc.Statement {
				if st.Effect == "Allow" && (st.Principal["AWS"] == "*" || st.Principal["*"] != nil) {
					return false, "statement " + st.Sid + " allows everyone"
				}
			}
			return true, "no Allow to *"
		})},
	{ID: "CKV_AWS_163", Ref: "checkov CKV_AWS_163; FSBP ECR.1", Severity: Medium,
		Rationale: "Images are scanned for known vulnerabilities when pushed.",
		check: each([]string{tRepository}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("imageScanningConfiguration.scanOnPush"), "scan on push", "no scan on push")
		})},
	{ID: "CKV_AWS_51", Ref: "checkov CKV_AWS_51; FSBP ECR.2", Severity: High,
		Rationale: "Immutable tags: a deployed tag always means the same image, so a rollout is a new tag.",
		check: each([]string{tRepository}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("imageTagMutability") == "IMMUTABLE", "immutable tags", "mutable tags")
		})},
	{ID: "CKV_AWS_136", Ref: "checkov CKV_AWS_136", Severity: Low,
		Rationale: "Images are encrypted with KMS.",
		check: each([]string{tRepository}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("encryptionConfigurations.0.encryptionType") == "KMS", "KMS", "AES256 or none")
		})},
	{ID: "IE_PROTECT", Ref: "immutable-edge: data survives a mistaken destroy (Pulumi protect, S3 force_destroy, ECR force_delete)", Severity: Low,
		Rationale: "The public address, the buckets and the image repositories are protected, and destroy never empties a bucket or a repository on its way out; a disposable stack (protect false) waives it.",
		check: each([]string{tEIP, tBucket, tRepository}, func(c *Context, r plan.Resource) (bool, string) {
			for _, n := range c.Plan.OfType(tNAT) {
				if r.Type == tEIP && n.Str("allocationId") == r.ID {
					return true, "outbound address of NAT gateway " + n.Name + ": nothing points at it"
				}
			}
			switch {
			case !r.Protect:
				return false, "not protected: pulumi destroy removes it"
			case r.Bool("forceDestroy"):
				return false, "forceDestroy: destroy deletes every object version first"
			case r.Bool("forceDelete"):
				return false, "forceDelete: destroy deletes the images with it"
			}
			return true, "protected, never force-emptied"
		})},
	{ID: "ECR.3", Ref: "FSBP ECR.3", Severity: Low,
		Rationale: "A lifecycle policy expires old images, keeping storage cost and scan noise bounded.",
		check: each([]string{tRepository}, func(c *Context, r plan.Resource) (bool, string) {
			for _, lp := range c.Plan.OfType(tRepoLifecycle) {
				for _, dep := range lp.DependsOn {
					if dep == r.URN {
						return true, "lifecycle " + lp.Name
					}
				}
			}
			return false, "no lifecycle policy"
		})},
}
