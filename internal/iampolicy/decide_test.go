package iampolicy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecide(t *testing.T) {
	const role, acct = "arn:aws:iam::123456789012:role/app/r", "123456789012"
	allowS3 := New(Statement{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}})
	allowKMS := New(Statement{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{"arn:aws:kms:r:1:key/k"}})
	tlsOnly := New(Statement{Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:*"}, Resource: []string{"arn:aws:s3:::b/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}}})
	grantsRole := New(Statement{Effect: "Allow", Principal: map[string]any{"AWS": role}, Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}})
	rootKey := New(Statement{Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"}, Action: []string{"kms:*"}, Resource: []string{"*"}})
	otherKey := New(Statement{Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::999999999999:root"}, Action: []string{"kms:*"}, Resource: []string{"*"}})
	namesRole := New(Statement{Effect: "Allow", Principal: map[string]any{"AWS": role}, Action: []string{"kms:Decrypt"}, Resource: []string{"*"}})
	get := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x", Context: map[string]string{"aws:SecureTransport": "true"}}
	decrypt := Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:r:1:key/k"}
	for _, tc := range []struct {
		name   string
		req    Request
		access Access
		want   bool
		why    string
	}{
		{"identity alone", get, Access{Identity: []Document{allowS3}}, true, ""},
		{"within the boundary", get, Access{Identity: []Document{allowS3}, Boundary: []Document{allowS3}}, true, ""},
		{"outside the boundary", get, Access{Identity: []Document{allowS3}, Boundary: []Document{allowKMS}}, false, "boundary"},
		{"the bucket denies plain HTTP", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x", Context: map[string]string{"aws:SecureTransport": "false"}},
			Access{Identity: []Document{allowS3}, Resource: []Document{tlsOnly}}, false, "resource's policy denies"},
		{"the bucket policy names the role", get, Access{Resource: []Document{grantsRole}}, true, ""},
		{"nothing allows it", get, Access{Identity: []Document{allowKMS}}, false, "no identity policy"},
		{"a key whose account delegates to IAM", decrypt, Access{Identity: []Document{allowKMS}, Key: []Document{rootKey}}, true, ""},
		{"a key that admits only another account", decrypt, Access{Identity: []Document{allowKMS}, Key: []Document{otherKey}}, false, "key policy admits neither"},
		{"a key that names the role, no identity grant", decrypt, Access{Identity: []Document{allowS3}, Key: []Document{namesRole}}, true, ""},
		{"a key that names the role, outside the boundary", decrypt, Access{Identity: []Document{allowS3}, Boundary: []Document{allowS3}, Key: []Document{namesRole}},
			false, "boundary"},
		{"a delegating key, but no identity grant", decrypt, Access{Identity: []Document{allowS3}, Key: []Document{rootKey}}, false, "no identity policy"},
		{"a delegating key, the boundary refuses", decrypt, Access{Identity: []Document{allowKMS}, Boundary: []Document{allowS3}, Key: []Document{rootKey}}, false, "boundary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.access.Principal, tc.access.Account = role, acct
			ok, why, err := Decide(tc.req, tc.access)
			require.NoError(t, err)
			require.Equal(t, tc.want, ok, why)
			require.Contains(t, why, tc.why)
		})
	}
}
