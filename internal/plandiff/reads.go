package plandiff

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Lookup is one of a Document's reads: a data source call, what the program asked and what it
// was told. (Read is taken: it loads a Document.)
type Lookup struct {
	Token  string         `json:"token"`
	Args   map[string]any `json:"args"`
	Result map[string]any `json:"result"`
}

// readAnswers is the result field a reader wants from each data source; other tokens show
// their id, or the whole result.
var readAnswers = map[string]string{
	"aws:ssm/getParameter:getParameter":                   "value",
	"aws:index/getAvailabilityZones:getAvailabilityZones": "names",
	"aws:index/getCallerIdentity:getCallerIdentity":       "accountId",
	"aws:index/getPartition:getPartition":                 "partition",
	"aws:index/getRegion:getRegion":                       "name",
}

// Subject is what the read asked, short: "aws:ssm/getParameter /immutable-edge/prod/ami-id".
func (r Lookup) Subject() string {
	// aws:ssm/getParameter:getParameter repeats its function name; once is enough.
	token := r.Token
	if i := strings.LastIndex(token, ":"); i >= 0 && strings.HasSuffix(token[:i], "/"+token[i+1:]) {
		token = token[:i]
	}
	if name, ok := r.Args["name"].(string); ok {
		return token + " " + name
	}
	var args []string
	for _, k := range slices.Sorted(maps.Keys(r.Args)) {
		args = append(args, k+"="+plain(r.Args[k]))
	}
	return strings.TrimSpace(token + " " + strings.Join(args, " "))
}

// Answer is the part of the result a reader looks for: the parameter's value, the zone names,
// the account id, the partition.
func (r Lookup) Answer() string {
	if v, ok := r.Result[readAnswers[r.Token]]; ok {
		return plain(v)
	}
	if v, ok := r.Result["id"]; ok {
		return plain(v)
	}
	return plain(r.Result)
}

// key identifies a read across documents: the same token asked the same thing.
func (r Lookup) key() string {
	b, _ := json.Marshal(r.Args) // map keys sorted
	return r.Token + " " + string(b)
}

// plain shows a value without JSON quotes: a string as it is, a list of strings comma-separated.
func plain(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = plain(x)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ReadChange is a read whose answer differs between two documents, or one only one of them made.
type ReadChange struct {
	Op       string   // "+" new read, "-" read no more, "~" same question, another answer
	Old, New Lookup   // the zero Lookup on the side that did not make it
	Fields   []string // result paths whose values differ, for "~"; sorted
}

// Read is the read as the current document has it, or as the old one had it when it is gone.
func (c ReadChange) Read() Lookup {
	if c.Op == "-" {
		return c.Old
	}
	return c.New
}

// String is the read's one line: its subject and answer, or old → new answer.
func (c ReadChange) String() string {
	r := c.Read()
	if c.Op != "~" {
		return r.Subject() + " → " + r.Answer()
	}
	was, is := c.Old.Answer(), r.Answer()
	if was == is { // the field a reader looks for is the same; say which ones differ
		return fmt.Sprintf("%s: %s (changed: %s)", r.Subject(), is, strings.Join(c.Fields, ", "))
	}
	return fmt.Sprintf("%s: %s → %s", r.Subject(), was, is)
}

// CompareReads lists the reads added, removed or answered differently, in the current
// document's order and then the removed ones. A document without reads (written before synth
// recorded them) compares as nothing changed; see ReadsCompared.
func CompareReads(old, cur Document) []ReadChange {
	if !ReadsCompared(old, cur) {
		return nil
	}
	before := map[string]Lookup{}
	for _, r := range old.Reads {
		before[r.key()] = r
	}
	var out []ReadChange
	seen := map[string]bool{}
	for _, r := range cur.Reads {
		seen[r.key()] = true
		o, ok := before[r.key()]
		if !ok {
			out = append(out, ReadChange{Op: "+", New: r})
			continue
		}
		was, is := flatten(o.Result), flatten(r.Result)
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(union(was, is))) {
			if was[k] != is[k] {
				fields = append(fields, k)
			}
		}
		if len(fields) > 0 {
			out = append(out, ReadChange{Op: "~", Old: o, New: r, Fields: fields})
		}
	}
	for _, r := range old.Reads {
		if !seen[r.key()] {
			out = append(out, ReadChange{Op: "-", Old: r})
		}
	}
	return out
}

// ReadsCompared is false when either document has no reads list at all: JSON without the key
// decodes to nil, where a plan that read nothing has an empty list.
func ReadsCompared(old, cur Document) bool { return old.Reads != nil && cur.Reads != nil }

// attribute notes on each change which input paths take their old and new values from a
// changed read: the input held a result field's old value before and holds its new value after.
// Only string values count, so a flag or a count that happens to match is not blamed on a read.
func attribute(changes []Change, reads []ReadChange) {
	from := map[[2]string]string{} // old, new JSON value → subject of the read they come from
	for _, rc := range reads {
		if rc.Op != "~" {
			continue
		}
		was, is := flatten(rc.Old.Result), flatten(rc.New.Result)
		for _, f := range rc.Fields {
			pair := [2]string{was[f], is[f]}
			if _, taken := from[pair]; !taken && isString(pair[0]) && isString(pair[1]) {
				from[pair] = rc.New.Subject()
			}
		}
	}
	if len(from) == 0 {
		return
	}
	for i, c := range changes {
		for _, p := range c.Paths {
			if s, ok := from[[2]string{c.Old[p], c.New[p]}]; ok {
				if changes[i].From == nil {
					changes[i].From = map[string]string{}
				}
				changes[i].From[p] = s
			}
		}
	}
}

// isString reports whether a flattened JSON value is a non-empty string.
func isString(j string) bool { return len(j) > 2 && j[0] == '"' }
