// Package plandiff reads the offline synth's JSON documents (design.md's contract) and says what
// changes between two of them: as the text `synth -diff` prints, and as the Markdown body of a
// pull-request comment.
package plandiff

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// Document is the JSON shape of design.md's offline synth contract.
type Document struct {
	Project   string          `json:"project"`
	Stack     string          `json:"stack"`
	Resources []Resource      `json:"resources"`
	Reads     []Lookup        `json:"reads"` // nil in documents from before synth recorded reads
	Outputs   map[string]any  `json:"outputs"`
	Policy    []policy.Result `json:"policy"`
	Cost      cost.Estimate   `json:"cost"`
}

// Resource is one resource of a Document.
type Resource struct {
	URN       string         `json:"urn"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Parent    string         `json:"parent"`
	DependsOn []string       `json:"dependsOn"`
	Inputs    map[string]any `json:"inputs"`
}

// Read loads a synth JSON document.
func Read(path string) (Document, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Document{}, err
	}
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return Document{}, fmt.Errorf("%s: not a synth JSON plan: %w", path, err)
	}
	return d, nil
}

// replaceKeys are the inputs whose change makes AWS (through the provider) replace the resource
// rather than update it, for the types this program uses. A launch template is never replaced:
// a change is a new version, which the Auto Scaling group's refresh then rolls out.
var replaceKeys = map[string][]string{
	"aws:ec2/vpc:Vpc":                                           {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                                     {"availabilityZone", "cidrBlock", "vpcId"},
	"aws:ec2/securityGroup:SecurityGroup":                       {"description", "name", "namePrefix", "vpcId"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {"securityGroupId"},
	"aws:ec2/natGateway:NatGateway":                             {"allocationId", "subnetId"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           {"serviceName", "vpcEndpointType", "vpcId"}, // ForceNew at provider 1a5174b
	"aws:ec2/eip:Eip":                                           {"domain"},
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       {"subnetId"},
	"aws:ec2/route:Route":                                       {"destinationCidrBlock", "routeTableId"},
	"aws:ec2/flowLog:FlowLog":                                   {"logDestination", "trafficType", "vpcId"},
	"aws:cloudwatch/logGroup:LogGroup":                          {"name", "namePrefix"},
	"aws:iam/role:Role":                                         {"name", "namePrefix", "path"},
	"aws:iam/instanceProfile:InstanceProfile":                   {"name", "namePrefix", "path"},
	"aws:ecr/repository:Repository":                             {"name"},
	"aws:autoscaling/group:Group":                               {"name", "namePrefix"},
	"aws:lb/loadBalancer:LoadBalancer":                          {"internal", "loadBalancerType", "name", "namePrefix"},
	"aws:lb/targetGroup:TargetGroup":                            {"name", "namePrefix", "port", "protocol", "targetType", "vpcId"},
	"aws:acm/certificate:Certificate":                           {"domainName", "keyAlgorithm", "subjectAlternativeNames", "validationMethod"},
	"aws:route53/record:Record":                                 {"name", "type", "zoneId"},
	"aws:s3/bucketV2:BucketV2":                                  {"bucket", "bucketPrefix"},
}

// Change is one resource's difference.
type Change struct {
	Op       string // "+" create, "-" delete, "~" update, "+-" replace
	URN      string
	Type     string
	Name     string
	Paths    []string // changed input paths, sorted
	Old, New map[string]string
	Reason   string // why a replace or what an update means, e.g. " (update: new version)"
	// From is the read each attributed path's new value comes from (path → read subject).
	From map[string]string
}

// Text is the plain-text diff `synth -diff` prints: each change with its paths (user-data
// decoded and diffed as text, values that come from a changed read marked with it), the
// refreshes launch template updates start, the reads that changed, then counts, cost and
// policy deltas.
func Text(old, cur Document) string {
	changes := Compare(old, cur)
	reads := CompareReads(old, cur)
	var out strings.Builder
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Op]++
		fmt.Fprintf(&out, "%-2s %s %s%s\n", c.Op, c.Type, c.Name, c.Reason)
		for _, p := range c.Paths {
			if p == "userData" {
				out.WriteString(indent(userDataDiff(c.Old[p], c.New[p]), "      "))
				continue
			}
			fmt.Fprintf(&out, "      %s: %s → %s%s\n", p, orNone(c.Old[p]), orNone(c.New[p]), fromRead(c.From[p]))
		}
	}
	for _, r := range Refreshes(changes, cur) {
		fmt.Fprintf(&out, "~  %s %s (%s)\n", r.GroupType, r.Group, r)
	}
	for _, r := range reads {
		fmt.Fprintf(&out, "%-2s read %s\n", r.Op, r)
	}
	if !ReadsCompared(old, cur) {
		out.WriteString("reads: not compared (a plan written before synth recorded reads has none)\n")
	}
	if len(changes) == 0 && len(reads) == 0 {
		out.WriteString("no changes\n")
	}
	fmt.Fprintf(&out, "%d to create, %d to update, %d to replace, %d to delete\n", counts["+"], counts["~"], counts["+-"], counts["-"])
	fmt.Fprintf(&out, "cost: $%.2f → $%.2f a month (%+.2f)\n", old.Cost.MonthlyUSD, cur.Cost.MonthlyUSD, cur.Cost.MonthlyUSD-old.Cost.MonthlyUSD)
	fmt.Fprintf(&out, "policy failures: %d → %d\n", Failures(old.Policy), Failures(cur.Policy))
	return out.String()
}

// Compare lists what changes from old to cur: creates, updates (with input paths), replaces
// (an update of an input that forces replacement) and deletes; each path whose values are a
// changed read's old and new answer names that read in From.
func Compare(old, cur Document) []Change {
	before := map[string]Resource{}
	for _, r := range old.Resources {
		before[r.URN] = r
	}
	var changes []Change
	seen := map[string]bool{}
	for _, r := range cur.Resources {
		seen[r.URN] = true
		o, ok := before[r.URN]
		if !ok {
			changes = append(changes, Change{Op: "+", URN: r.URN, Type: r.Type, Name: r.Name})
			continue
		}
		was, is := flatten(o.Inputs), flatten(r.Inputs)
		var paths []string
		for _, k := range slices.Sorted(maps.Keys(union(was, is))) {
			if was[k] != is[k] {
				paths = append(paths, k)
			}
		}
		if len(paths) == 0 {
			continue
		}
		c := Change{Op: "~", URN: r.URN, Type: r.Type, Name: r.Name, Paths: paths, Old: was, New: is}
		if forced := forcing(r.Type, paths); len(forced) > 0 {
			c.Op, c.Reason = "+-", " (replace: "+strings.Join(forced, ", ")+")"
		} else if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
			c.Reason = " (update: new version)"
		}
		changes = append(changes, c)
	}
	for _, r := range old.Resources {
		if !seen[r.URN] {
			changes = append(changes, Change{Op: "-", URN: r.URN, Type: r.Type, Name: r.Name})
		}
	}
	attribute(changes, CompareReads(old, cur))
	return changes
}

// Refresh is the consequence of a launch template update: the group pinned to it gets a new
// version and so an instance refresh, which no input of the group shows.
type Refresh struct{ Group, GroupType, LaunchTemplate string }

// Refreshes lists the instance refreshes the changes start.
func Refreshes(changes []Change, cur Document) []Refresh {
	var out []Refresh
	for _, c := range changes {
		if c.Op != "~" || c.Type != "aws:ec2/launchTemplate:LaunchTemplate" {
			continue
		}
		for _, r := range cur.Resources {
			// A group that takes its launch template's id depends on the template.
			if r.Type == "aws:autoscaling/group:Group" && slices.Contains(r.DependsOn, c.URN) {
				out = append(out, Refresh{Group: r.Name, GroupType: r.Type, LaunchTemplate: c.Name})
			}
		}
	}
	return out
}

func (r Refresh) String() string {
	return fmt.Sprintf("instance refresh: launch template %s gets a new version; pulumi up replaces the instances launch-before-terminate and rolls them back if it fails", r.LaunchTemplate)
}

func forcing(typ string, paths []string) []string {
	var out []string
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		if slices.Contains(replaceKeys[typ], top) && !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}

// flatten turns nested inputs into path → JSON value, lists by index.
func flatten(v map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(join(prefix, k), x)
			}
		case []any:
			for i, x := range t {
				walk(join(prefix, fmt.Sprint(i)), x)
			}
		default:
			b, _ := json.Marshal(t)
			out[prefix] = string(b)
		}
	}
	walk("", v)
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// fromRead is the note after a value that a changed read explains.
func fromRead(subject string) string {
	if subject == "" {
		return ""
	}
	return " (from read " + subject + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Failures counts the failed policy results.
func Failures(results []policy.Result) int { return policy.Count(results)[policy.Fail] }

func indent(s, pad string) string {
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad) + "\n"
}

// userDataDiff decodes both user-data values (JSON strings of base64) and diffs them as text.
func userDataDiff(oldJSON, newJSON string) string {
	decode := func(j string) string {
		var b64 string
		if json.Unmarshal([]byte(j), &b64) != nil {
			return ""
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return b64
		}
		return string(b)
	}
	return "userData (decoded):\n" + unified(decode(oldJSON), decode(newJSON), 2)
}
