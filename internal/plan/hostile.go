package plan

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
const MaxEditTags = 200000

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

// withTags adds n tags T000001… to aws:defaultTags, keeping the ones it has.
func withTags(c Config, n int) Config {
	var doc struct {
		Tags map[string]string `json:"tags"`
	}
	_ = json.Unmarshal([]byte(c["aws:defaultTags"]), &doc) // absent: start empty
	tags := map[string]string{}
	maps.Copy(tags, doc.Tags)
	for i := range n {
		tags[fmt.Sprintf("T%06d", i)] = "v"
	}
	return c.With("aws:defaultTags", map[string]any{"tags": tags})
}

// HostileKeys lists the distinct keys the hostile cases must name, sorted.
func HostileKeys(cases []Hostile) []string {
	set := map[string]bool{}
	for _, h := range cases {
		set[h.WantKey] = true
	}
	return slices.Sorted(maps.Keys(set))
}
