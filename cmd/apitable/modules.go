package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modules finds the source of the provider's dependencies (the AWS SDKs' enum values, the plugin
// SDK's constants) at the versions the provider's go.mod pins, through the Go module proxy.
type modules struct {
	versions map[string]string // module path → version
	dirs     map[string]string // module path → its directory in the module cache
}

func loadModules(root string) (*modules, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if os.IsNotExist(err) { // a tree without dependencies to read (the tests' fixture)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("provider go.mod: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	m := &modules{versions: map[string]string{}, dirs: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && strings.HasPrefix(fields[1], "v") && strings.Contains(fields[0], ".") {
			m.versions[fields[0]] = fields[1]
		}
	}
	return m, sc.Err()
}

// dir returns the directory of an imported package, downloading its module once.
func (m *modules) dir(importPath string) (string, bool) {
	if m == nil {
		return "", false
	}
	best := ""
	for mod := range m.versions {
		if (importPath == mod || strings.HasPrefix(importPath, mod+"/")) && len(mod) > len(best) {
			best = mod
		}
	}
	if best == "" {
		return "", false
	}
	dir, ok := m.dirs[best]
	if !ok {
		out, err := exec.Command("go", "mod", "download", "-json", best+"@"+m.versions[best]).Output()
		var info struct{ Dir string }
		if err == nil {
			err = json.Unmarshal(out, &info)
		}
		if err != nil || info.Dir == "" {
			m.dirs[best] = ""
			return "", false
		}
		dir = info.Dir
		m.dirs[best] = dir
	}
	if dir == "" {
		return "", false
	}
	return filepath.Join(dir, strings.TrimPrefix(importPath, best)), true
}
