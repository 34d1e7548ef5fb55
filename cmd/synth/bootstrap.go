package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// writeBootstrap writes the launch template's user-data to dir/user-data and each file it
// writes on the instance to dir/files/<absolute path>; it returns the paths written.
func writeBootstrap(p *plan.Plan, dir string) ([]string, error) {
	lts := p.OfType("aws:ec2/launchTemplate:LaunchTemplate")
	if len(lts) != 1 {
		return nil, fmt.Errorf("want one launch template, the plan has %d", len(lts))
	}
	ud, err := base64.StdEncoding.DecodeString(lts[0].Str("userData"))
	if err != nil {
		return nil, fmt.Errorf("user-data: %w", err)
	}
	files, err := bootstrap.Files(string(ud))
	if err != nil {
		return nil, err
	}
	written := []string{filepath.Join(dir, "user-data")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(written[0], ud, 0o644); err != nil {
		return nil, err
	}
	for _, f := range files {
		target := filepath.Join(dir, "files", filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(target, []byte(f.Content), 0o644); err != nil {
			return nil, err
		}
		written = append(written, target)
	}
	return written, nil
}
