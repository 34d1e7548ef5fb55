package plan

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Hostile is one hostile config value from issue 16's review: the edit that plants it in a
// committed stack's config, and the key whose error must refuse it. The same edit is what the
// config fuzz targets take (Edit), so every case is also a seed of their corpus.
type Hostile struct {
	Name    string `json:"name"`
	Stack   string `json:"stack"`
	Key     string `json:"key"`   // top-level key (immutable-edge: unless namespaced); "" with Tags
	Path    string `json:"path"`  // inside the structured key, e.g. "0.pathPrefix"; "" sets Key raw
	Value   string `json:"value"` // raw text for Key, JSON for Path (a non-JSON text is a string)
	Tags    int    `json:"tags"`  // this many generated tags added to aws:defaultTags
	WantKey string `json:"wantKey"`
}

//go:embed hostile.json
var hostileJSON []byte

// HostileValues returns the hostile cases, in the file's order.
func HostileValues() ([]Hostile, error) {
	var out []Hostile
	if err := json.Unmarshal(hostileJSON, &out); err != nil {
		return nil, fmt.Errorf("plan: hostile.json: %w", err)
	}
	return out, nil
}

// MaxEditTags bounds Edit's generated tags, so a fuzzed count cannot exhaust memory.
const MaxEditTags = 150000

// Edit returns base with one value planted: key set to value as raw text when path is empty,
// else the field at path inside the structured key set to value read as JSON (or as a string
// when it is not JSON); then tags generated tags added to aws:defaultTags. An edit the base
// cannot take (no such key to descend into, an index out of range) returns an error.
func Edit(base Config, key, path, value string, tags int) (cfg Config, err error) {
	cfg = maps.Clone(base)
	defer func() {
		if r := recover(); r != nil { // setPath panics on a path the document does not have
			cfg, err = nil, fmt.Errorf("plan: edit %s.%s: %v", key, path, r)
		}
	}()
	switch {
	case key == "":
	case path == "":
		cfg = cfg.With(key, value)
	default:
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			v = value
		}
		cfg = cfg.Set(key+"."+path, v)
	}
	if tags > 0 {
		cfg = withTags(cfg, min(tags, MaxEditTags))
	}
	return cfg, nil
}

// withTags adds n tags T000001… to aws:defaultTags, keeping the ones it has. It writes the JSON
// itself: a fuzzed count of 100,000 must cost milliseconds, not a map and a marshal.
func withTags(c Config, n int) Config {
	var doc struct {
		Tags map[string]string `json:"tags"`
	}
	_ = json.Unmarshal([]byte(c["aws:defaultTags"]), &doc) // absent: start empty
	var b strings.Builder
	b.Grow(16 * (n + len(doc.Tags)))
	b.WriteString(`{"tags":{`)
	for i := range n {
		fmt.Fprintf(&b, `"T%06d":"v",`, i)
	}
	for _, k := range slices.Sorted(maps.Keys(doc.Tags)) {
		kj, _ := json.Marshal(k) // strings always marshal
		vj, _ := json.Marshal(doc.Tags[k])
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
		b.WriteByte(',')
	}
	out := maps.Clone(c)
	out["aws:defaultTags"] = strings.TrimSuffix(b.String(), ",") + "}}"
	return out
}

// HostileKeys lists the distinct keys the hostile cases must name, sorted.
func HostileKeys(cases []Hostile) []string {
	set := map[string]bool{}
	for _, h := range cases {
		set[h.WantKey] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// Accepted are edits just inside each limit the hostile cases break: the fuzz targets start
// from them too, so the renderer's corpus also holds configs that reach HAProxy.
var Accepted = []Hostile{
	{Name: "committed dev", Stack: "dev"},
	{Name: "committed prod", Stack: "prod"},
	{Name: "escaped quote in pathPrefix", Stack: "dev", Key: "services", Path: "1.pathPrefix", Value: `"/a%27b"`},
	{Name: "query in healthPath", Stack: "prod", Key: "services", Path: "0.healthPath", Value: `"/ready?probe=1&full=yes"`},
	{Name: "TLS 1.3-only FIPS PQ policy", Stack: "prod", Key: "alb", Path: "sslPolicy", Value: `"ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09"`},
	{Name: "port next to the node exporter", Stack: "dev", Key: "services", Path: "0.port", Value: "9101"},
	{Name: "fractional budget", Stack: "dev", Key: "monthlyBudgetUsd", Value: "12.5"},
	{Name: "deeper parameter in the own channel", Stack: "dev", Key: "image", Path: "parameter", Value: `"/immutable-edge/dev/channel/ami-id"`},
	{Name: "49 tags", Stack: "dev", Tags: 45},
}

// SeedFile is h as a file of a Go fuzz corpus for targets taking (stack, key, path, value, tags).
func SeedFile(h Hostile) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\nstring(%q)\nstring(%q)\nstring(%q)\nint(%d)\n",
		h.Stack, h.Key, h.Path, h.Value, h.Tags)
}

// SeedName is the corpus file name of h: its name in lower case, words joined by hyphens.
func SeedName(h Hostile) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h.Name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// CheckSeedCorpus reports the cases whose seed file in dir is missing or stale; with write it
// (re)writes them instead.
func CheckSeedCorpus(dir string, cases []Hostile, write bool) ([]string, error) {
	var stale []string
	for _, h := range cases {
		path := filepath.Join(dir, SeedName(h))
		got, err := os.ReadFile(path)
		if err == nil && bytes.Equal(got, SeedFile(h)) {
			continue
		}
		if !write {
			stale = append(stale, path)
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, SeedFile(h), 0o644); err != nil {
			return nil, err
		}
	}
	return stale, nil
}

// Edits are the committed stacks' configs, by stack, that fuzz targets plant values into.
type Edits map[string]Config

// CommittedEdits reads the committed configs of dev and prod.
func CommittedEdits() (Edits, error) {
	e := Edits{}
	for _, s := range []string{"dev", "prod"} {
		c, err := StackConfig(s)
		if err != nil {
			return nil, err
		}
		e[s] = c
	}
	return e, nil
}

// Apply plants one edit (as Edit) into the named stack's config, or dev's when the fuzzer's
// name is no committed stack, and says which stack it went to.
func (e Edits) Apply(stack, key, path, value string, tags int) (string, Config, error) {
	if e[stack] == nil {
		stack = "dev"
	}
	cfg, err := Edit(e[stack], key, path, value, tags)
	return stack, cfg, err
}
