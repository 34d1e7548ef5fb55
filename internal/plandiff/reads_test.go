package plandiff

import (
	"testing"

	"github.com/stretchr/testify/require"
)

var lineTests = []struct {
	name string
	in   Lookup
	want string // Subject() + " → " + Answer()
}{
	{"parameter by name", Lookup{"aws:ssm/getParameter:getParameter", map[string]any{"name": "/p"}, map[string]any{"value": "ami-1", "id": "/p"}}, "aws:ssm/getParameter /p → ami-1"},
	{"zones as their names", Lookup{"aws:index/getAvailabilityZones:getAvailabilityZones", map[string]any{"state": "available"}, map[string]any{"names": []any{"a", "b"}, "id": "r"}}, "aws:index/getAvailabilityZones state=available → a, b"},
	{"account id", Lookup{"aws:index/getCallerIdentity:getCallerIdentity", map[string]any{}, map[string]any{"accountId": "1", "arn": "x", "id": "1"}}, "aws:index/getCallerIdentity → 1"},
	{"unknown token shows its id", Lookup{"aws:ec2/getVpc:getVpc", map[string]any{"default": true}, map[string]any{"id": "vpc-1", "cidrBlock": "10.0.0.0/16"}}, "aws:ec2/getVpc default=true → vpc-1"},
	{"no id: the whole result", Lookup{"x:index:whatever", nil, map[string]any{"b": 1.0, "a": "z"}}, `x:index:whatever → {"a":"z","b":1}`},
}

func TestLookupLine(t *testing.T) {
	for _, tt := range lineTests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.in.Subject()+" → "+tt.in.Answer())
		})
	}
}

// doc is a document with one launch template and the given reads.
func doc(imageID string, optimized bool, reads ...Lookup) Document {
	return Document{Stack: "prod", Reads: reads, Resources: []Resource{{
		URN: "urn:lt", Type: "aws:ec2/launchTemplate:LaunchTemplate", Name: "lt",
		Inputs: map[string]any{"imageId": imageID, "ebsOptimized": optimized},
	}}}
}

func param(value string) Lookup {
	return Lookup{"aws:ssm/getParameter:getParameter", map[string]any{"name": "/ami"}, map[string]any{"value": value, "insecureValue": value}}
}

// flag is a read whose answer is a boolean, as an unrelated input may be.
func flag(v bool) Lookup {
	return Lookup{"x:index:getFlag", map[string]any{}, map[string]any{"on": v}}
}

// caller is the caller identity of a role in account 1.
func caller(role string) Lookup {
	return Lookup{"aws:index/getCallerIdentity:getCallerIdentity", map[string]any{}, map[string]any{"accountId": "1", "arn": "arn:aws:sts::1:assumed-role/" + role}}
}

var compareReadsTests = []struct {
	name      string
	old, cur  Document
	wantReads []string // Op + " " + String()
	wantFrom  map[string]string
}{
	{"a new parameter value explains the new image id",
		doc("ami-1", false, param("ami-1")), doc("ami-2", false, param("ami-2")),
		[]string{"~ aws:ssm/getParameter /ami: ami-1 → ami-2"},
		map[string]string{"imageId": "aws:ssm/getParameter /ami"}},
	{"a boolean that changes alongside is not blamed",
		doc("ami-1", false, flag(false)), doc("ami-1", true, flag(true)),
		[]string{`~ x:index:getFlag: {"on":false} → {"on":true}`}, nil},
	{"a read added and one removed",
		doc("ami-1", false, param("ami-1")), doc("ami-1", false, flag(true)),
		[]string{`+ x:index:getFlag → {"on":true}`, "- aws:ssm/getParameter /ami → ami-1"}, nil},
	{"an old document without reads compares as none changed",
		doc("ami-1", false), doc("ami-2", false, param("ami-2")), nil, nil},
	{"another field than the answer changes",
		doc("ami-1", false, caller("deploy")), doc("ami-1", false, caller("admin")),
		[]string{"~ aws:index/getCallerIdentity: 1 (changed: arn)"}, nil},
	{"the same answer", doc("ami-1", false, param("ami-1")), doc("ami-1", false, param("ami-1")), nil, nil},
}

func TestCompareReads(t *testing.T) {
	for _, tt := range compareReadsTests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range CompareReads(tt.old, tt.cur) {
				got = append(got, c.Op+" "+c.String())
			}
			require.Equal(t, tt.wantReads, got)
			var from map[string]string
			for _, c := range Compare(tt.old, tt.cur) {
				from = c.From
			}
			require.Equal(t, tt.wantFrom, from)
		})
	}
}
