package bootstrap

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is one file cloud-init writes on the instance.
type File struct {
	Path        string `yaml:"path"`
	Owner       string `yaml:"owner"`
	Permissions string `yaml:"permissions"`
	Content     string `yaml:"content"`
}

// Files reads back the files a rendered cloud-config writes, so tools and tests see exactly
// what the instance will get.
func Files(userData string) ([]File, error) {
	if !strings.HasPrefix(userData, "#cloud-config\n") {
		return nil, fmt.Errorf("bootstrap: user-data is not a #cloud-config document")
	}
	var doc struct {
		WriteFiles []File `yaml:"write_files"`
	}
	if err := yaml.Unmarshal([]byte(userData), &doc); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	for _, f := range doc.WriteFiles {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path {
			return nil, fmt.Errorf("bootstrap: write_files path %q is not a clean absolute path", f.Path)
		}
	}
	return doc.WriteFiles, nil
}
