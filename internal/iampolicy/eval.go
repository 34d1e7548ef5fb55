package iampolicy

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Request is one API call as IAM sees it: an action on a resource, and the condition keys the
// request carries (aws:RequestedRegion, iam:PassedToService, aws:ResourceTag/Stack, ...).
type Request struct {
	Action   string
	Resource string
	Context  map[string]string
}

// Allows reports whether the documents together allow the request: an Allow statement matches
// and no Deny statement does. It models the part of IAM this project writes (Action and Resource
// globs, and the condition operators below) and fails on anything else, so a test never passes
// on a policy it cannot read.
func Allows(r Request, docs ...Document) (bool, error) {
	allowed := false
	for _, d := range docs {
		for _, st := range d.Statement {
			ok, err := st.matches(r)
			if err != nil {
				return false, fmt.Errorf("statement %q: %w", st.Sid, err)
			}
			switch {
			case !ok:
			case st.Effect == "Deny":
				return false, nil
			case st.Effect == "Allow":
				allowed = true
			default:
				return false, fmt.Errorf("statement %q: effect %q", st.Sid, st.Effect)
			}
		}
	}
	return allowed, nil
}

func (st Statement) matches(r Request) (bool, error) {
	if !slices.ContainsFunc(st.Action, func(a string) bool { return glob(strings.ToLower(a), strings.ToLower(r.Action)) }) {
		return false, nil
	}
	// No Resource means a trust policy; it is not evaluated here.
	if !slices.ContainsFunc(st.Resource, func(p string) bool { return glob(p, r.Resource) }) {
		return false, nil
	}
	for op, keys := range st.Condition {
		for key, want := range keys {
			ok, err := condition(op, r.Context, key, values(want))
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

// condition evaluates one operator on one key. A key the request lacks fails the positive
// operators and passes the negated ones, as in IAM; an ...IfExists operator passes on a key
// the request lacks and is its operator otherwise
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists).
func condition(op string, ctx map[string]string, key string, want []string) (bool, error) {
	if set, base, ok := setOperator(op); ok {
		return setCondition(set, base, ctx, key, want)
	}
	got, present := ctx[key]
	if base, ok := strings.CutSuffix(op, "IfExists"); ok && base != "Null" {
		if !present {
			return true, nil
		}
		op = base
	}
	if op == "Null" {
		return slices.Contains(want, fmt.Sprint(!present)), nil
	}
	var match func(pattern, value string) bool
	negate := false
	switch op {
	case "StringEquals", "ArnEquals", "Bool":
		match = func(p, v string) bool { return p == v }
	case "StringLike", "ArnLike":
		match = glob
	case "StringNotEquals", "ArnNotEquals":
		match, negate = func(p, v string) bool { return p == v }, true
	case "StringNotLike", "ArnNotLike":
		match, negate = glob, true
	default:
		return false, fmt.Errorf("condition operator %s is not modelled", op)
	}
	if !present {
		return negate, nil
	}
	hit := slices.ContainsFunc(want, func(p string) bool { return match(p, got) })
	return hit != negate, nil
}

// setOperator splits a set operator (ForAllValues:StringEquals) into its qualifier and base.
func setOperator(op string) (set, base string, ok bool) {
	set, base, ok = strings.Cut(op, ":")
	return set, base, ok && (set == "ForAllValues" || set == "ForAnyValue")
}

// setCondition evaluates a set operator on a multivalued key, which a request's context holds
// as a comma-separated list (tag keys cannot hold a comma). ForAllValues is true when every
// value matches, and also when the key is absent or empty; ForAnyValue when one does
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
func setCondition(set, base string, ctx map[string]string, key string, want []string) (bool, error) {
	got := ctx[key]
	var members []string
	if got != "" {
		members = strings.Split(got, ",")
	}
	for _, m := range members {
		ok, err := condition(base, map[string]string{key: m}, key, want)
		if err != nil {
			return false, err
		}
		if set == "ForAnyValue" && ok {
			return true, nil
		}
		if set == "ForAllValues" && !ok {
			return false, nil
		}
	}
	return set == "ForAllValues", nil
}

// values turns a condition value (a string or a list of strings) into a list.
func values(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// glob matches IAM wildcards: * any run of characters (slashes too), ? one character.
func glob(pattern, value string) bool {
	// path.Match stops * at "/"; IAM does not, so match segment-free by mapping "/" away.
	const sep = "\x00"
	ok, err := path.Match(strings.ReplaceAll(escape(pattern), "/", sep), strings.ReplaceAll(value, "/", sep))
	return err == nil && ok
}

// escaper quotes the characters path.Match treats specially but IAM does not; built once, as
// every match of every request goes through it.
var escaper = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`)

func escape(p string) string { return escaper.Replace(p) }
