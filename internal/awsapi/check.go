package awsapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Violation is a planned argument the provider would reject before calling AWS.
type Violation struct {
	Attribute string // the provider's path, e.g. name or default_action.redirect.status_code
	Value     string
	Reason    string
	At        string // where the provider declares the argument
}

func (v Violation) String() string {
	return fmt.Sprintf("%s = %q: %s (%s)", v.Attribute, v.Value, v.Reason, v.At)
}

// Result is what checking one resource found.
type Result struct {
	Violations []Violation
	Checked    int // values a compiled validator or limit was applied to
	Unchecked  []string
}

// AutonameSuffix stands for the suffix Pulumi's auto-naming adds to a logical name ("-" and
// seven random hex characters, https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming),
// for the types whose name the program leaves to it.
const AutonameSuffix = "-0a1b2c3"

// Validate applies one provider argument's validator to a value: why the provider would reject
// it (empty when it accepts), and where the provider declares the argument.
func (t *Table) Validate(tfType, attr, value string) (string, string, error) {
	typ, ok := t.Resources[tfType]
	if !ok {
		return "", "", fmt.Errorf("awsapi: %s is not in the table", tfType)
	}
	con, ok := typ.Constraints[attr]
	if !ok || con.Rule == nil {
		return "", "", fmt.Errorf("awsapi: %s has no validator for %s", tfType, attr)
	}
	ok, why, checked := evaluate(*con.Rule, value)
	if !checked {
		return "", "", fmt.Errorf("awsapi: the validator of %s.%s cannot be evaluated", tfType, attr)
	}
	if ok {
		return "", con.At, nil
	}
	return why, con.At, nil
}

// Check checks one resource's inputs (Pulumi property names, as the plan records them)
// against its provider type's schema: every property must be an argument of the type at the
// table's revision, required arguments present, conflicts and companions respected, list sizes
// and validators met, and AWS's tag limits kept. A name the program leaves to Pulumi is checked
// as the logical name plus AutonameSuffix.
func (t *Table) Check(token, logical string, inputs map[string]any) (Result, error) {
	typ, _, err := t.Type(token)
	if err != nil {
		return Result{}, err
	}
	c := checker{typ: typ, renames: Renames[token], present: map[string]bool{}}
	c.object("", inputs)
	for _, attr := range []string{"name", "bucket"} {
		con, ok := typ.Constraints[attr]
		if !ok || !con.Optional || !con.Computed || c.present[attr] || c.present[attr+"_prefix"] {
			continue
		}
		if attr == "bucket" && token != "aws:s3/bucketV2:BucketV2" {
			continue
		}
		c.value(attr, logical+AutonameSuffix)
		break
	}
	c.relations()
	return c.res, nil
}

type checker struct {
	typ     *Type
	renames map[string]string
	present map[string]bool // provider paths the inputs set
	res     Result
}

// object checks one level of inputs; prefix is its provider path with a trailing dot.
func (c *checker) object(prefix string, inputs map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		v := inputs[k]
		if v == nil || k == "__defaults" {
			continue
		}
		attr, ok := c.attribute(prefix, k)
		if !ok {
			c.fail(prefix+k, v, "not an argument of this type at the table's provider revision", "")
			continue
		}
		path := prefix + attr
		c.present[path] = true
		con := c.typ.Constraints[path]
		switch v := v.(type) {
		case []any:
			c.items(path, con, len(v))
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					c.object(path+".", m)
				} else {
					c.value(path, e)
				}
			}
		case map[string]any:
			if c.nested(path) {
				c.items(path, con, 1)
				c.object(path+".", v)
			} else if attr == "tags" || attr == "tags_all" {
				c.tags(path, v)
			}
		default:
			c.value(path, v)
		}
	}
	c.required(prefix, inputs)
}

// attribute maps a Pulumi property to the provider argument at one level.
func (c *checker) attribute(prefix, property string) (string, bool) {
	if a, ok := c.renames[prefix+property]; ok {
		return strings.TrimPrefix(a, prefix), true
	}
	return AttributeFor(property, func(a string) bool { return slices.Contains(c.typ.Attributes, prefix+a) })
}

// AttributeFor finds the provider attribute a Pulumi property name stands for: the same name in
// snake case, or its singular (pulumi-aws pluralises list blocks: default_action →
// defaultActions); has says which attributes exist.
func AttributeFor(property string, has func(string) bool) (string, bool) {
	s := snake(property)
	candidates := []string{s}
	if v, ok := strings.CutSuffix(s, "ies"); ok {
		candidates = append(candidates, v+"y")
	}
	if v, ok := strings.CutSuffix(s, "es"); ok {
		candidates = append(candidates, v)
	}
	if v, ok := strings.CutSuffix(s, "s"); ok {
		candidates = append(candidates, v)
	}
	for _, cand := range candidates {
		if has(cand) {
			return cand, true
		}
	}
	return "", false
}

func (c *checker) nested(path string) bool {
	for _, a := range c.typ.Attributes {
		if strings.HasPrefix(a, path+".") {
			return true
		}
	}
	return false
}

func (c *checker) items(path string, con Constraint, n int) {
	if con.MaxItems > 0 {
		c.res.Checked++
		if n > con.MaxItems {
			c.fail(path, n, fmt.Sprintf("at most %d allowed", con.MaxItems), con.At)
		}
	}
	if con.MinItems > 0 && n < con.MinItems {
		c.fail(path, n, fmt.Sprintf("at least %d required", con.MinItems), con.At)
	}
}

// required reports the required arguments of one level the inputs leave out.
func (c *checker) required(prefix string, inputs map[string]any) {
	for _, a := range c.typ.Attributes {
		rest, ok := strings.CutPrefix(a, prefix)
		if !ok || strings.Contains(rest, ".") || !c.typ.Constraints[a].Required {
			continue
		}
		if !c.present[a] {
			c.fail(a, "", "required", c.typ.Constraints[a].At)
		}
	}
}

// relations checks ConflictsWith, ExactlyOneOf, AtLeastOneOf and RequiredWith.
func (c *checker) relations() {
	for _, a := range c.typ.Attributes {
		con := c.typ.Constraints[a]
		if c.present[a] {
			for _, other := range con.ConflictsWith {
				if c.present[other] {
					c.fail(a, "", "conflicts with "+other, con.At)
				}
			}
			for _, other := range con.RequiredWith {
				if !c.present[other] {
					c.fail(a, "", "needs "+other, con.At)
				}
			}
		}
		if len(con.ExactlyOneOf) > 0 && c.parentPresent(a) {
			n := 0
			for _, other := range con.ExactlyOneOf {
				if c.present[other] {
					n++
				}
			}
			if n != 1 {
				c.fail(a, "", fmt.Sprintf("exactly one of %s must be set, %d are", strings.Join(con.ExactlyOneOf, ", "), n), con.At)
			}
		}
		if len(con.AtLeastOneOf) > 0 && c.parentPresent(a) && !slices.ContainsFunc(con.AtLeastOneOf, func(o string) bool { return c.present[o] }) {
			c.fail(a, "", "one of "+strings.Join(con.AtLeastOneOf, ", ")+" must be set", con.At)
		}
	}
}

// parentPresent reports whether the block an argument belongs to is set (the root always is).
func (c *checker) parentPresent(a string) bool {
	i := strings.LastIndex(a, ".")
	return i < 0 || c.present[a[:i]]
}

// tags applies AWS's tag limits: at most 50 tags a resource, keys up to 128 characters, values
// up to 256 (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
func (c *checker) tags(path string, tags map[string]any) {
	c.res.Checked++
	if len(tags) > 50 {
		c.fail(path, len(tags), "AWS allows at most 50 tags a resource", "")
	}
	for k, v := range tags {
		s := fmt.Sprint(v)
		if len(k) > 128 || len(s) > 256 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			c.fail(path+"."+k, s, "AWS tag keys are up to 128 characters and not aws:-prefixed, values up to 256", "")
		}
	}
}

// value applies an argument's validator to one value.
func (c *checker) value(path string, v any) {
	con, ok := c.typ.Constraints[path]
	if !ok || con.Rule == nil {
		return
	}
	s := scalar(v)
	ok, reason, checked := evaluate(*con.Rule, s)
	if !checked {
		c.res.Unchecked = append(c.res.Unchecked, path+": "+describe(*con.Rule))
		return
	}
	c.res.Checked++
	if !ok {
		c.fail(path, s, reason, con.At)
	}
}

func (c *checker) fail(path string, v any, reason, at string) {
	c.res.Violations = append(c.res.Violations, Violation{Attribute: path, Value: scalar(v), Reason: reason, At: at})
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// snake turns a Pulumi property name into the provider's attribute spelling.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
