package setup

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// TestInstanceRoleKeepsItsCertificateState weighs everything IAM does for the dev instance's
// certificate restore (boot.sh) and save (the renewal hook): the instance role's inline policy,
// the stack's permissions boundary, the bucket's policy (TLS only) and the stack key's policy
// (the account hands decisions to IAM). Every call the scripts make, with the KMS calls S3
// makes on the role's behalf for the bucket's SSE-KMS encryption, must be allowed; the ones
// next to them must not.
func TestInstanceRoleKeepsItsCertificateState(t *testing.T) {
	p := mainPlan(t, "dev")
	bucket := find(t, p, "aws:s3/bucketV2:BucketV2", "dev-certs")
	bucketARN := "arn:aws:s3:::" + permissions.Physical(bucket)
	keyARN := "arn:aws:kms:" + region + ":" + plan.Account + ":key/0123abcd-dev-key"
	role := find(t, p, "aws:iam/role:Role", "dev-role")
	_, roleARN := permissions.Identity(p, role)

	sse := find(t, p, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "dev-certs")
	require.Equal(t, "aws:kms", sse.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
	require.Equal(t, keyARN, sse.Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"), "the stack's own key, not aws/s3")

	access := iampolicy.Access{
		Principal: roleARN, Account: plan.Account,
		Identity: []iampolicy.Document{doc(t, find(t, p, "aws:iam/rolePolicy:RolePolicy", "dev-runtime").Str("policy"))},
		Boundary: policies(t, "immutable-edge-dev-boundary"),
		Resource: []iampolicy.Document{doc(t, find(t, p, "aws:s3/bucketPolicy:BucketPolicy", "dev-certs").Str("policy"))},
	}
	keyPolicy := []iampolicy.Document{doc(t, find(t, p, "aws:kms/key:Key", "dev-key").Str("policy"))}
	object := bucketARN + "/letsencrypt/" + bootstrap.CertStateObject
	tls := map[string]string{"aws:SecureTransport": "true", "aws:RequestedRegion": region}
	viaS3 := map[string]string{"aws:SecureTransport": "true", "aws:RequestedRegion": region,
		"kms:ViaService": "s3." + region + ".amazonaws.com", "aws:ResourceTag/Stack": "dev"}
	with := func(c map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for a, b := range c {
			out[a] = b
		}
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		name  string
		req   iampolicy.Request
		key   bool // a KMS call: the key policy joins in
		allow bool
	}{
		{"is there state (aws s3api list-objects-v2 --prefix)", iampolicy.Request{Action: "s3:ListBucket", Resource: bucketARN, Context: with(tls, "s3:prefix", "letsencrypt/"+bootstrap.CertStateObject)}, false, true},
		{"restore (aws s3 cp s3://... FILE)", iampolicy.Request{Action: "s3:GetObject", Resource: object, Context: tls}, false, true},
		{"S3 decrypts it for the role", iampolicy.Request{Action: "kms:Decrypt", Resource: keyARN, Context: viaS3}, true, true},
		{"save (aws s3 cp - s3://...)", iampolicy.Request{Action: "s3:PutObject", Resource: object, Context: tls}, false, true},
		{"S3 asks the key for a data key", iampolicy.Request{Action: "kms:GenerateDataKey", Resource: keyARN, Context: viaS3}, true, true},
		{"over plain HTTP", iampolicy.Request{Action: "s3:GetObject", Resource: object, Context: with(tls, "aws:SecureTransport", "false")}, false, false},
		{"outside the state prefix", iampolicy.Request{Action: "s3:GetObject", Resource: bucketARN + "/other", Context: tls}, false, false},
		{"listing the whole bucket", iampolicy.Request{Action: "s3:ListBucket", Resource: bucketARN, Context: with(tls, "s3:prefix", "")}, false, false},
		{"the key directly, not through S3", iampolicy.Request{Action: "kms:Decrypt", Resource: keyARN, Context: with(viaS3, "kms:ViaService", "")}, true, false},
		{"prod's key", iampolicy.Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:" + region + ":" + plan.Account + ":key/prod", Context: with(viaS3, "aws:ResourceTag/Stack", "prod")}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := access
			if tc.key {
				a.Resource, a.Key = nil, keyPolicy
			}
			if tc.req.Context["kms:ViaService"] == "" {
				delete(tc.req.Context, "kms:ViaService")
			}
			ok, why, err := iampolicy.Decide(tc.req, a)
			require.NoError(t, err)
			require.Equal(t, tc.allow, ok, "%s %s: %s (%s)", tc.req.Action, tc.req.Resource, why, a)
		})
	}
}
