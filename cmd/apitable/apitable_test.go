package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// fixture is a small provider tree in testdata/provider with the shapes the real one has: an
// SDK resource with a finder, waiter and status function in other files, a CustomizeDiff, a
// paginator, a call into another service package and a tagging interceptor that switches on
// the resource type; a framework resource whose CRUD methods live on an embedded type that
// dispatches through an interface; the ELB account map.
var fixture = []wanted{
	{"aws:widget/widget:Widget", "aws_widget", false},
	{"aws:widget/gadgetRule:GadgetRule", "aws_gadget_rule", false},
}

func fixtureOptions(provider, overlay string) options {
	return options{provider: provider, overlay: overlay, commit: "fixture", iam: "testdata/iam", sdk: "testdata/sdk"}
}

func TestDeriveFollowsTheProvidersCodePaths(t *testing.T) {
	table, err := derive(fixtureOptions("testdata/provider", ""), fixture, io.Discard)
	require.NoError(t, err)

	widget := table.Resources["aws_widget"]
	require.Equal(t, map[string][]string{
		awsapi.Plan:   {"widget.DescribeQuota"},
		awsapi.Create: {"widget.CreateWidget", "widget.DescribeWidgets", "widget.TagWidget"},
		awsapi.Read:   {"widget.DescribeWidgets", "widget.ListWidgetTags"},
		awsapi.Update: {"widget.TagWidget"}, // no Update handler: a tag change is the interceptor's alone
		awsapi.Delete: {"widget.ListParts", "widget.ReleaseWidget"},
	}, widget.Ops, "only what the handlers reach: not unused(), not the Gadget tag cases")
	require.True(t, widget.Tagged)
	require.Equal(t, []string{"name", "part", "part.label", "size", "tags"}, widget.Attributes)

	gadget := table.Resources["aws_gadget_rule"]
	require.Equal(t, []string{"widget.CreateGadgetRule"}, gadget.Ops[awsapi.Create], "Create on the embedded type dispatches to the outer type's create")
	require.Equal(t, []string{"widget.GetGadgetRule"}, gadget.Ops[awsapi.Read])
	require.Equal(t, []string{"rule_name"}, gadget.Attributes)

	require.Equal(t, []string{"widget:CreateWidget"}, table.Operations["widget.CreateWidget"])
	require.Equal(t, "Write", table.Actions["widget:CreateWidget"].AccessLevel)
	require.Equal(t, "arn:${Partition}:widget:${Region}:${Account}:widget/${WidgetId}", table.ResourceTypes["widget:widget"])
	require.Equal(t, map[string]string{"eu-central-1": "054676820928", "us-gov-west-1": "048591011584"}, table.ELBAccounts)
}

func TestDeriveReadsTheOverlayInstead(t *testing.T) {
	table, err := derive(fixtureOptions("testdata/provider", "testdata/overlay"), fixture[:1], io.Discard)
	require.NoError(t, err)
	require.Contains(t, table.Resources["aws_widget"].Ops[awsapi.Read], "widget.GetWidgetPolicy")
	require.Len(t, table.Provider.Overlays, 1)
	require.Equal(t, "internal/service/widget/find.go", table.Provider.Overlays[0].Path)
	require.Equal(t, "0123456789abcdef0123456789abcdef01234567", table.Provider.Overlays[0].Source)
	require.Len(t, table.Provider.Overlays[0].SHA256, 64)
}

// A file missing from the tree (here the finder) must fail the derivation, not shorten the table.
func TestDeriveFailsOnAFunctionNoFileDeclares(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/provider")))
	require.NoError(t, os.Remove(filepath.Join(dir, "internal/service/widget/find.go")))
	_, err := derive(fixtureOptions(dir, ""), fixture[:1], io.Discard)
	require.ErrorContains(t, err, "internal/service/widget.findWidget is called")
}

func TestDeriveFailsOnAWrongPair(t *testing.T) {
	// The SDK's widget properties are not the gadget rule's attributes.
	_, err := derive(fixtureOptions("testdata/provider", ""), []wanted{{"aws:widget/widget:Widget", "aws_gadget_rule", false}}, io.Discard)
	require.ErrorContains(t, err, "is not Widget")
}

func TestSpellings(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"KMSKeyARN", "kms_key_arn"}, {"AccountID", "account_id"}, {"TagsAll", "tags_all"}, {"DefaultAction", "default_action"},
		{"ARN", "arn"}, {"StatusCode", "status_code"},
	} {
		require.Equal(t, tc.want, attrSpelling(tc.in), tc.in)
	}
	for _, tc := range []struct{ in, want string }{
		{"EuCentral1RegionID", "eu-central-1"}, {"UsGovWest1RegionID", "us-gov-west-1"}, {"ApSoutheast3RegionID", "ap-southeast-3"}, {"NotARegion", ""},
	} {
		require.Equal(t, tc.want, regionID(tc.in), tc.in)
	}
	for _, tc := range []struct {
		property string
		want     string
	}{{"defaultActions", "default_action"}, {"policies", "policy"}, {"ipv6CidrBlock", "ipv6_cidr_block"}, {"nope", ""}} {
		attrs := map[string]bool{"default_action": true, "policy": true, "ipv6_cidr_block": true}
		got, _ := awsapi.AttributeFor(tc.property, func(a string) bool { return attrs[a] })
		require.Equal(t, tc.want, got, tc.property)
	}
}
