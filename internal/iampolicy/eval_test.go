package iampolicy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

func TestAllows(t *testing.T) {
	bucket := iampolicy.New(
		iampolicy.Statement{Effect: "Allow", Action: []string{"s3:Get*"}, Resource: []string{"arn:aws:s3:::b-*"}},
		iampolicy.Statement{Effect: "Allow", Action: []string{"ec2:RunInstances"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:RequestedRegion": []any{"eu-central-1", "us-east-1"}}}},
		iampolicy.Statement{Effect: "Deny", Action: []string{"ec2:*"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"Null": {"aws:ResourceTag/Stack": "false"}, "StringNotEquals": {"aws:ResourceTag/Stack": "dev"}}},
		iampolicy.Statement{Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringEqualsIfExists": {"aws:RequestTag/Stack": "dev"}}},
		iampolicy.Statement{Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: []string{"arn:aws:iam::1:role/p/?ev/*"},
			Condition: map[string]map[string]any{"StringLike": {"iam:PassedToService": "ec2.*"}}},
	)
	eu := map[string]string{"aws:RequestedRegion": "eu-central-1"}
	for _, tc := range []struct {
		name string
		req  iampolicy.Request
		want bool
	}{
		{"action glob, and * spans slashes", iampolicy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b-1/dir/key"}, true},
		{"actions are case-insensitive", iampolicy.Request{Action: "S3:getobject", Resource: "arn:aws:s3:::b-1/k"}, true},
		{"resources are not", iampolicy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::B-1/k"}, false},
		{"unlisted action", iampolicy.Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b-1/k"}, false},
		{"condition value in a list", iampolicy.Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string]string{"aws:RequestedRegion": "us-east-1"}}, true},
		{"condition value not in the list", iampolicy.Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string]string{"aws:RequestedRegion": "us-west-2"}}, false},
		{"missing key fails a positive operator", iampolicy.Request{Action: "ec2:RunInstances", Resource: "*"}, false},
		{"deny needs the tag present and different", iampolicy.Request{Action: "ec2:RunInstances", Resource: "*",
			Context: map[string]string{"aws:RequestedRegion": "eu-central-1", "aws:ResourceTag/Stack": "prod"}}, false},
		{"own tag is not denied", iampolicy.Request{Action: "ec2:RunInstances", Resource: "*",
			Context: map[string]string{"aws:RequestedRegion": "eu-central-1", "aws:ResourceTag/Stack": "dev"}}, true},
		{"untagged is not denied", iampolicy.Request{Action: "ec2:RunInstances", Resource: "*", Context: eu}, true},
		{"IfExists passes without the key", iampolicy.Request{Action: "ec2:CreateTags", Resource: "*"}, true},
		{"IfExists is its operator with the key", iampolicy.Request{Action: "ec2:CreateTags", Resource: "*",
			Context: map[string]string{"aws:RequestTag/Stack": "prod"}}, false},
		{"IfExists with the right value", iampolicy.Request{Action: "ec2:CreateTags", Resource: "*",
			Context: map[string]string{"aws:RequestTag/Stack": "dev"}}, true},
		{"? matches one character", iampolicy.Request{Action: "iam:PassRole", Resource: "arn:aws:iam::1:role/p/dev/r",
			Context: map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}}, true},
		{"StringLike on the context", iampolicy.Request{Action: "iam:PassRole", Resource: "arn:aws:iam::1:role/p/dev/r",
			Context: map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := iampolicy.Allows(tc.req, bucket)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAllowsRefusesWhatItCannotModel(t *testing.T) {
	d := iampolicy.New(iampolicy.Statement{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"*"},
		Condition: map[string]map[string]any{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
	_, err := iampolicy.Allows(iampolicy.Request{Action: "s3:GetObject", Resource: "x"}, d)
	require.ErrorContains(t, err, "IpAddress is not modelled")
}

func TestSetOperatorsOnMultivaluedKeys(t *testing.T) {
	only := iampolicy.Statement{Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{"*"},
		Condition: map[string]map[string]any{"ForAllValues:StringEquals": {"aws:TagKeys": []string{"Pinned-prod"}}, "Null": {"aws:TagKeys": "false"}}}
	anyKey := iampolicy.Statement{Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{"*"},
		Condition: map[string]map[string]any{"ForAnyValue:StringEquals": {"aws:TagKeys": "Stack"}}}
	for _, tc := range []struct {
		st   iampolicy.Statement
		keys string
		want bool
	}{
		{only, "Pinned-prod", true},
		{only, "Pinned-prod,Stack", false},
		{only, "", false}, // the Null guard: ForAllValues alone is true on no keys
		{anyKey, "Name,Stack", true},
		{anyKey, "Name", false},
		{anyKey, "", false},
	} {
		ctx := map[string]string{}
		if tc.keys != "" {
			ctx["aws:TagKeys"] = tc.keys
		}
		got, err := iampolicy.Allows(iampolicy.Request{Action: "ec2:CreateTags", Resource: "arn:x", Context: ctx}, iampolicy.New(tc.st))
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%v %q", tc.st.Condition, tc.keys)
	}
}
