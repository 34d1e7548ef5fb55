package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is a raw stack config (the PULUMI_CONFIG form) with builders for tests and tools.
type Config map[string]string

// StackConfig reads Pulumi.<stack>.yaml from the repository root.
func StackConfig(stackName string) (Config, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return ReadConfigFile(filepath.Join(root, "Pulumi."+stackName+".yaml"))
}

// Stacks lists the committed stacks, sorted: one per Pulumi.<stack>.yaml at the repository root.
func Stacks() ([]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	return names, nil
}

// With returns a copy with key set; key without a namespace is in immutable-edge:. Strings are
// stored as they are; other values JSON-encoded, as the Pulumi CLI hands structured config over.
func (c Config) With(key string, v any) Config {
	out := maps.Clone(c)
	if out == nil {
		out = Config{}
	}
	s, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("plan: config %s: %v", key, err))
		}
		s = string(b)
	}
	out[fullKey(key)] = s
	return out
}

// Without returns a copy with key removed.
func (c Config) Without(key string) Config {
	out := maps.Clone(c)
	delete(out, fullKey(key))
	return out
}

// Set returns a copy with one field of a structured key changed: "fleet.max", "services.1.port".
func (c Config) Set(path string, v any) Config {
	top, rest, _ := strings.Cut(path, ".")
	var doc any
	if err := json.Unmarshal([]byte(c[fullKey(top)]), &doc); err != nil {
		panic(fmt.Sprintf("plan: config %s: %v", top, err))
	}
	setPath(doc, rest, v, false)
	return c.With(top, doc)
}

func fullKey(k string) string {
	for i := range k {
		if k[i] == ':' {
			return k
		}
	}
	return Project + ":" + k
}

// YAML renders the config as a Pulumi.<stack>.yaml document: structured values as YAML, the
// rest as strings, so ReadConfigFile reads back the same Config (tools hand it to the synth).
func (c Config) YAML() ([]byte, error) {
	doc := map[string]any{}
	for k, v := range c {
		var structured any
		if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			if json.Unmarshal([]byte(v), &structured) == nil {
				doc[k] = structured
				continue
			}
		}
		doc[k] = v
	}
	return yaml.Marshal(map[string]any{"config": doc})
}
