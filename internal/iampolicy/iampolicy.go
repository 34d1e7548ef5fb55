// Package iampolicy writes IAM policy documents as typed Go values, so components build
// least-privilege policies without string templates and tests can read them back.
package iampolicy

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Version is the IAM policy language version every document uses.
const Version = "2012-10-17"

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document. Fields marshal in a fixed order, so the same
// statements always give byte-identical JSON (and no spurious diffs).
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]any            `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// New returns a document of the given statements.
func New(statements ...Statement) Document {
	return Document{Version: Version, Statement: statements}
}

// JSON renders the document; it cannot fail for the types above, so a failure is a bug.
func (d Document) JSON() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("iampolicy: %v", err))
	}
	return string(b)
}

// AssumeRole is a trust policy that lets one AWS service assume the role.
func AssumeRole(service string) Document {
	return New(Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	})
}

// Parse reads a document back; statements whose Action or Resource is a single string are
// normalised to lists.
func Parse(s string) (Document, error) {
	var raw struct {
		Version   string            `json:"Version"`
		Statement []json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return Document{}, err
	}
	d := Document{Version: raw.Version}
	for _, r := range raw.Statement {
		var st struct {
			Sid       string                    `json:"Sid"`
			Effect    string                    `json:"Effect"`
			Principal map[string]any            `json:"Principal"`
			Action    stringList                `json:"Action"`
			Resource  stringList                `json:"Resource"`
			Condition map[string]map[string]any `json:"Condition"`
		}
		if err := json.Unmarshal(r, &st); err != nil {
			return Document{}, err
		}
		d.Statement = append(d.Statement, Statement{st.Sid, st.Effect, st.Principal, st.Action, st.Resource, st.Condition})
	}
	return d, nil
}

type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// RoleScope is where a stack's roles live and what bounds them: the deploy role that account/
// creates may create roles only under Path and only with Boundary attached.
type RoleScope struct {
	Path     string // e.g. "/immutable-edge/dev/"; empty means IAM's default "/"
	Boundary string // ARN of the permissions boundary policy; empty means none
}

// PathInput is the role or instance profile path as a Pulumi input; nil leaves IAM's default.
func (s RoleScope) PathInput() pulumi.StringPtrInput {
	if s.Path == "" {
		return nil
	}
	return pulumi.String(s.Path)
}

// BoundaryInput is the permissions boundary as a Pulumi input; nil attaches none.
func (s RoleScope) BoundaryInput() pulumi.StringPtrInput {
	if s.Boundary == "" {
		return nil
	}
	return pulumi.String(s.Boundary)
}
