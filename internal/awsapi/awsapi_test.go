package awsapi

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTableIsWhole(t *testing.T) {
	table, err := Load()
	require.NoError(t, err)
	require.NotEmpty(t, table.Provider.Commit)
	for token, tf := range ResourceTypes {
		typ, name, err := table.Type(token)
		require.NoError(t, err, token)
		require.Equal(t, tf, name)
		require.NotEmpty(t, typ.Attributes, token)
	}
	for token := range DataSources {
		_, _, err := table.Type(token)
		require.NoError(t, err, token)
	}
	for op, actions := range table.Operations {
		require.NotEmpty(t, actions, op)
		for _, a := range actions {
			facts, ok := table.Actions[a]
			require.True(t, ok, "%s: no facts for %s", op, a)
			require.NotEmpty(t, facts.AccessLevel, a)
			for _, rt := range facts.ResourceTypes {
				_, ok := table.ResourceTypes[rt.Name]
				require.True(t, ok, "%s: no ARN template for %s", a, rt.Name)
			}
		}
	}
	_, _, err = table.Type("aws:made/up:Thing")
	require.ErrorContains(t, err, "no provider type is known")
}

func TestExpand(t *testing.T) {
	table, err := Load()
	require.NoError(t, err)
	describe := table.Expand("ec2:Describe*")
	require.Greater(t, len(describe), 50)
	require.Contains(t, describe, "ec2:DescribeVpcs")
	require.NotContains(t, describe, "ec2:CreateVpc")
	require.Equal(t, []string{"elasticloadbalancing:ModifyListenerAttributes"}, table.Expand("elasticloadbalancing:ModifyListenerAttributes"))
	require.Equal(t, []string{"elasticloadbalancing:ModifyListenerAttributes"}, table.Expand("Elasticloadbalancing:modifylistenerattributes"), "IAM matches actions without case")
	require.Nil(t, table.Expand("nosuchservice:Foo"))
	require.True(t, slices.IsSorted(table.Expand("s3:*")))
}

func TestARN(t *testing.T) {
	table := &Table{ResourceTypes: map[string]string{"ec2:vpc": "arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}"}}
	got, ok := table.ARN("ec2:vpc", map[string]string{"Partition": "aws", "Region": "eu-central-1", "Account": "123456789012"}, "x")
	require.True(t, ok)
	require.Equal(t, "arn:aws:ec2:eu-central-1:123456789012:vpc/x", got)
	_, ok = table.ARN("ec2:nothing", nil, "x")
	require.False(t, ok)
}
