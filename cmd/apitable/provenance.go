package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// elbAccounts reads the regional Elastic Load Balancing accounts from aws_elb_service_account.
func (t *tree) elbAccounts() (map[string]string, error) {
	p, err := t.load("internal/service/elb")
	if err != nil {
		return nil, err
	}
	for _, f := range p.files {
		for _, d := range f.ast.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				vs, ok := s.(*ast.ValueSpec)
				if !ok || len(vs.Values) != 1 || !strings.Contains(strings.ToLower(vs.Names[0].Name), "accountid") {
					continue
				}
				cl, ok := vs.Values[0].(*ast.CompositeLit)
				if !ok {
					continue
				}
				out := map[string]string{}
				for _, elt := range cl.Elts {
					kv, ok := elt.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					region, account := t.stringValue(p, kv.Key), t.stringValue(p, kv.Value)
					if region == "" {
						if sel, ok := kv.Key.(*ast.SelectorExpr); ok { // endpoints.EuCentral1RegionID
							region = regionID(sel.Sel.Name)
						}
					}
					if region != "" && account != "" {
						out[region] = account
					}
				}
				if len(out) > 0 {
					t.used[f.path] = true
					return out, nil
				}
			}
		}
	}
	return nil, errors.New("internal/service/elb: no map of regional ELB accounts found")
}

// overlays lists the overlay files the derivation read, with their commits from SOURCES.
func (t *tree) overlays() ([]awsapi.File, error) {
	if t.overlay == "" {
		return nil, nil
	}
	commits := map[string]string{}
	f, err := os.Open(filepath.Join(t.overlay, "SOURCES"))
	if err != nil {
		return nil, fmt.Errorf("overlay: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		commit, path, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if ok && !strings.HasPrefix(commit, "#") {
			commits[path] = commit
		}
	}
	var out []awsapi.File
	for _, path := range slices.Sorted(maps.Keys(t.used)) {
		if !t.overlaid(path) {
			continue
		}
		c, ok := commits[path]
		if !ok {
			return nil, fmt.Errorf("overlay: %s has no source in SOURCES", path)
		}
		b, err := os.ReadFile(filepath.Join(t.overlay, path))
		if err != nil {
			return nil, err
		}
		out = append(out, awsapi.File{Path: path, Source: c, SHA256: fmt.Sprintf("%x", sha256.Sum256(b))})
	}
	return out, sc.Err()
}

var regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)

// regionID spells an SDK region constant's name as the region: EuCentral1RegionID → eu-central-1.
func regionID(constant string) string {
	name, ok := strings.CutSuffix(strings.TrimSuffix(constant, "ID"), "Region")
	if !ok {
		return ""
	}
	var parts []string
	start := 0
	for i := 1; i <= len(name); i++ {
		if i == len(name) || isUpper(name[i]) || (isDigit(name[i]) && !isDigit(name[i-1])) {
			parts = append(parts, strings.ToLower(name[start:i]))
			start = i
		}
	}
	r := strings.Join(parts, "-")
	if !regionName.MatchString(r) {
		return ""
	}
	return r
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
