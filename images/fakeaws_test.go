package images_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The fake AWS CLI: the test binary itself, run through a symlink named aws (TestMain). It keeps
// an account in a JSON file (images, snapshots, parameters, launch templates and instances),
// answers in the shapes of the EC2 and SSM APIs, changes the state as AWS would, fails the way
// the CLI fails (exit 254 for a service error, 252 for options it does not know), and logs
// every call.
type account struct {
	Images     []image           `json:"images"`
	Snapshots  []string          `json:"snapshots"`
	Parameters map[string]string `json:"parameters"` // String parameters: name → value
	Secrets    map[string]string `json:"secrets"`    // SecureString parameters, which retention must not read as ids
	Templates  []template        `json:"templates"`
	Instances  []instance        `json:"instances"`
	// Fail makes a call fail: "ec2 describe-images" → the error code it answers with.
	Fail map[string]string `json:"fail"`
}

type image struct {
	ID, Created, State string
	Tags               map[string]string
	Snapshots          []string
}

type template struct {
	ID       string
	Tags     map[string]string
	Default  int
	Versions map[string]string // version number → the image it launches
}

type instance struct{ ID, Image, State string }

// TestMain runs the fake AWS CLI when the test binary is started through a link named aws.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "aws" {
		os.Exit(fakeAWS(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeAWS runs one CLI call against the account in $FAKE_AWS_STATE.
func fakeAWS(args []string) int {
	if f, err := os.OpenFile(os.Getenv("FAKE_AWS_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintln(f, "aws "+strings.Join(args, " "))
		_ = f.Close()
	}
	path := os.Getenv("FAKE_AWS_STATE")
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake aws:", err)
		return 255
	}
	var acct account
	if err := json.Unmarshal(b, &acct); err != nil {
		fmt.Fprintln(os.Stderr, "fake aws:", err)
		return 255
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: aws [options] <command> <subcommand> [parameters]")
		return 252
	}
	call := args[0] + " " + args[1]
	flags, err := parseFlags(args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 252
	}
	if code := acct.Fail[call]; code != "" {
		return apiError(code, call, "injected failure")
	}
	handler, ok := handlers[call]
	if !ok {
		fmt.Fprintf(os.Stderr, "fake aws: %s is not faked\n", call)
		return 252
	}
	if err := flags.only(handler.flags...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 252
	}
	if flags.one("region") == "" {
		fmt.Fprintln(os.Stderr, "You must specify a region.")
		return 253
	}
	out, code, msg := handler.run(&acct, flags)
	if code != "" {
		return apiError(code, call, msg)
	}
	if b, err = json.Marshal(acct); err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake aws:", err)
		return 255
	}
	if out != nil {
		if flags.one("output") != "json" {
			fmt.Fprintln(os.Stderr, "fake aws: answers only --output json")
			return 252
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	}
	return 0
}

func apiError(code, call, msg string) int {
	op := "" // describe-images → DescribeImages
	for _, w := range strings.Split(strings.Fields(call)[1], "-") {
		op += strings.ToUpper(w[:1]) + w[1:]
	}
	fmt.Fprintf(os.Stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n", code, op, msg)
	return 254
}

// flags are a call's options: --name value... (several values until the next option).
type flags map[string][]string

func parseFlags(args []string) (flags, error) {
	f := flags{}
	name := ""
	for _, a := range args {
		if n, ok := strings.CutPrefix(a, "--"); ok {
			name = n
			f[name] = f[name][:0:0]
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("Unknown options: %s", a)
		}
		f[name] = append(f[name], a)
	}
	return f, nil
}

func (f flags) only(known ...string) error {
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !slices.Contains(append(known, "region", "output"), k) {
			return fmt.Errorf("Unknown options: --%s", k)
		}
	}
	return nil
}

func (f flags) one(name string) string {
	if v := f[name]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// filters decodes --filters Name=x,Values=a,b ... into name → values.
func (f flags) filters() map[string][]string {
	out := map[string][]string{}
	for _, spec := range f["filters"] {
		name, values, _ := strings.Cut(strings.TrimPrefix(spec, "Name="), ",Values=")
		out[name] = strings.Split(values, ",")
	}
	return out
}

func tagsMatch(tags map[string]string, filters map[string][]string) bool {
	for name, values := range filters {
		if key, ok := strings.CutPrefix(name, "tag:"); ok && !slices.Contains(values, tags[key]) {
			return false
		}
	}
	return true
}

type handler struct {
	flags []string
	run   func(*account, flags) (out any, errCode, msg string)
}

var handlers = map[string]handler{
	"ec2 describe-images": {[]string{"owners", "filters", "image-ids"}, describeImages},
	"ec2 deregister-image": {[]string{"image-id"}, func(a *account, f flags) (any, string, string) {
		i := slices.IndexFunc(a.Images, func(im image) bool { return im.ID == f.one("image-id") })
		if i < 0 {
			return nil, "InvalidAMIID.Unavailable", "The image id '[" + f.one("image-id") + "]' is no longer available"
		}
		a.Images = slices.Delete(a.Images, i, i+1)
		return map[string]any{"Return": true}, "", ""
	}},
	"ec2 delete-snapshot": {[]string{"snapshot-id"}, func(a *account, f flags) (any, string, string) {
		id := f.one("snapshot-id")
		for _, im := range a.Images {
			if slices.Contains(im.Snapshots, id) {
				return nil, "InvalidSnapshot.InUse", "The snapshot " + id + " is currently in use by " + im.ID
			}
		}
		i := slices.Index(a.Snapshots, id)
		if i < 0 {
			return nil, "InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist."
		}
		a.Snapshots = slices.Delete(a.Snapshots, i, i+1)
		return nil, "", ""
	}},
	// create-tags and delete-tags as promote.sh calls them: one image, Key=K[,Value=V] specs.
	"ec2 create-tags": {[]string{"resources", "tags"}, func(a *account, f flags) (any, string, string) {
		return retag(a, f, func(tags map[string]string, k, v string) { tags[k] = v })
	}},
	"ec2 delete-tags": {[]string{"resources", "tags"}, func(a *account, f flags) (any, string, string) {
		return retag(a, f, func(tags map[string]string, k, _ string) { delete(tags, k) })
	}},
	"ec2 describe-launch-templates":         {[]string{"filters"}, describeTemplates},
	"ec2 describe-launch-template-versions": {[]string{"launch-template-id", "versions", "min-version", "max-version"}, describeVersions},
	"ec2 describe-instances":                {[]string{"filters"}, describeInstances},
	"ssm get-parameters-by-path":            {[]string{"path", "recursive", "parameter-filters"}, parametersByPath},
	"ssm get-parameter": {[]string{"name"}, func(a *account, f flags) (any, string, string) {
		v, ok := a.Parameters[f.one("name")]
		if !ok {
			return nil, "ParameterNotFound", ""
		}
		return map[string]any{"Parameter": map[string]any{"Name": f.one("name"), "Type": "String", "Value": v, "DataType": "aws:ec2:image"}}, "", ""
	}},
	"ssm put-parameter": {[]string{"name", "type", "data-type", "value", "overwrite"}, putParameter},
}

func retag(a *account, f flags, edit func(tags map[string]string, k, v string)) (any, string, string) {
	for _, id := range f["resources"] {
		i := slices.IndexFunc(a.Images, func(im image) bool { return im.ID == id })
		if i < 0 {
			return nil, "InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist"
		}
		if a.Images[i].Tags == nil {
			a.Images[i].Tags = map[string]string{}
		}
		for _, spec := range f["tags"] {
			k, v, _ := strings.Cut(strings.TrimPrefix(spec, "Key="), ",Value=")
			edit(a.Images[i].Tags, k, v)
		}
	}
	return nil, "", ""
}

func describeImages(a *account, f flags) (any, string, string) {
	if f.one("owners") != "self" && len(f["image-ids"]) == 0 {
		return nil, "InvalidParameterCombination", "the fake answers for --owners self"
	}
	var out []map[string]any
	for _, im := range a.Images {
		if !tagsMatch(im.Tags, f.filters()) || (len(f["image-ids"]) > 0 && !slices.Contains(f["image-ids"], im.ID)) {
			continue
		}
		var bdm []map[string]any
		for i, s := range im.Snapshots {
			bdm = append(bdm, map[string]any{"DeviceName": "/dev/sd" + string(rune('a'+i)) + "1", "Ebs": map[string]any{"SnapshotId": s}})
		}
		var tags []map[string]string
		for _, k := range slices.Sorted(maps.Keys(im.Tags)) {
			tags = append(tags, map[string]string{"Key": k, "Value": im.Tags[k]})
		}
		out = append(out, map[string]any{"ImageId": im.ID, "CreationDate": im.Created, "State": im.State,
			"BlockDeviceMappings": bdm, "Tags": tags})
	}
	return map[string]any{"Images": orEmpty(out)}, "", ""
}

func describeTemplates(a *account, f flags) (any, string, string) {
	var out []map[string]any
	for _, t := range a.Templates {
		if tagsMatch(t.Tags, f.filters()) {
			out = append(out, map[string]any{"LaunchTemplateId": t.ID, "LatestVersionNumber": t.latest(), "DefaultVersionNumber": t.Default})
		}
	}
	return map[string]any{"LaunchTemplates": orEmpty(out)}, "", ""
}

func (t template) latest() int {
	n := 0
	for v := range t.Versions {
		if i, _ := strconv.Atoi(v); i > n {
			n = i
		}
	}
	return n
}

// describeVersions answers --versions N... (each must exist) or --min-version/--max-version (the
// ones that exist in the range), as DescribeLaunchTemplateVersions does.
func describeVersions(a *account, f flags) (any, string, string) {
	i := slices.IndexFunc(a.Templates, func(t template) bool { return t.ID == f.one("launch-template-id") })
	if i < 0 {
		return nil, "InvalidLaunchTemplateId.NotFound", "no launch template " + f.one("launch-template-id")
	}
	t := a.Templates[i]
	var want []int
	if len(f["versions"]) > 0 {
		for _, v := range f["versions"] {
			if _, ok := t.Versions[v]; !ok {
				return nil, "InvalidLaunchTemplateId.VersionNotFound", "version " + v
			}
			n, _ := strconv.Atoi(v)
			want = append(want, n)
		}
	} else {
		lo, err1 := strconv.Atoi(f.one("min-version"))
		hi, err2 := strconv.Atoi(f.one("max-version"))
		if err1 != nil || err2 != nil {
			return nil, "InvalidParameterValue", "the fake wants --versions or both --min-version and --max-version"
		}
		for n := lo; n <= hi; n++ {
			if _, ok := t.Versions[strconv.Itoa(n)]; ok {
				want = append(want, n)
			}
		}
	}
	var out []map[string]any
	for _, n := range want {
		out = append(out, map[string]any{"LaunchTemplateId": t.ID, "VersionNumber": n,
			"LaunchTemplateData": map[string]any{"ImageId": t.Versions[strconv.Itoa(n)]}})
	}
	return map[string]any{"LaunchTemplateVersions": orEmpty(out)}, "", ""
}

func describeInstances(a *account, f flags) (any, string, string) {
	filters := f.filters()
	var out []map[string]any
	for _, in := range a.Instances {
		if ids := filters["image-id"]; len(ids) > 0 && !slices.Contains(ids, in.Image) {
			continue
		}
		if states := filters["instance-state-name"]; len(states) > 0 && !slices.Contains(states, in.State) {
			continue
		}
		out = append(out, map[string]any{"InstanceId": in.ID, "ImageId": in.Image, "State": map[string]string{"Name": in.State}})
	}
	return map[string]any{"Reservations": []any{map[string]any{"Instances": orEmpty(out)}}}, "", ""
}

// parametersByPath answers GetParametersByPath: the parameters below the path (all levels with
// --recursive), of the types a Type filter names.
func parametersByPath(a *account, f flags) (any, string, string) {
	prefix := strings.TrimSuffix(f.one("path"), "/") + "/"
	_, recursive := f["recursive"]
	types := []string{"String", "SecureString"}
	for _, spec := range f["parameter-filters"] {
		if v, ok := strings.CutPrefix(spec, "Key=Type,Values="); ok {
			types = strings.Split(v, ",")
		}
	}
	var out []map[string]any
	add := func(params map[string]string, typ string) {
		for _, name := range slices.Sorted(maps.Keys(params)) {
			rest, ok := strings.CutPrefix(name, prefix)
			if ok && (recursive || !strings.Contains(rest, "/")) && slices.Contains(types, typ) {
				out = append(out, map[string]any{"Name": name, "Type": typ, "Value": params[name]})
			}
		}
	}
	add(a.Parameters, "String")
	add(a.Secrets, "SecureString")
	return map[string]any{"Parameters": orEmpty(out)}, "", ""
}

func putParameter(a *account, f flags) (any, string, string) {
	name, value := f.one("name"), f.one("value")
	if _, overwrite := f["overwrite"]; !overwrite {
		if _, exists := a.Parameters[name]; exists {
			return nil, "ParameterAlreadyExists", "The parameter already exists."
		}
	}
	if f.one("type") != "String" || f.one("data-type") != "aws:ec2:image" {
		return nil, "ValidationException", "the fake keeps AMI ids only"
	}
	if !slices.ContainsFunc(a.Images, func(im image) bool { return im.ID == value }) {
		return nil, "ValidationException", "The AMI ID " + value + " is not valid"
	}
	if a.Parameters == nil {
		a.Parameters = map[string]string{}
	}
	a.Parameters[name] = value
	return map[string]any{"Version": 2, "Tier": "Standard"}, "", ""
}

func orEmpty(s []map[string]any) []map[string]any {
	if s == nil {
		return []map[string]any{}
	}
	return s
}
