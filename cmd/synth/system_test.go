package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// maxNodes is how many boxes a picture may have and still read in a pull-request comment.
const maxNodes = 30

// picture is a system diagram read back: labels by node id, titles by subgraph id, links.
type picture struct {
	nodes, groups map[string]string
	links         []pictureLink
}

type pictureLink struct {
	from, to, label string
	dotted          bool
}

var (
	nodeRE  = regexp.MustCompile(`(?m)^\s+([a-z][a-z0-9]*)[\[({]+"([^"]*)"[\])}]+$`)
	groupRE = regexp.MustCompile(`(?m)^  subgraph ([a-z][a-z0-9]*)\["([^"]*)"\]$`)
	linkRE  = regexp.MustCompile(`(?m)^  ([a-z][a-z0-9]*) (-->|-\.->)(?:\|"([^"]*)"\|)? ([a-z][a-z0-9]*)$`)
)

// readPicture parses what System prints and checks every line is a node, a subgraph or a link
// between declared ids.
func readPicture(t *testing.T, text string) picture {
	t.Helper()
	require.True(t, strings.HasPrefix(text, "flowchart LR\n"))
	p := picture{nodes: map[string]string{}, groups: map[string]string{}}
	for _, m := range nodeRE.FindAllStringSubmatch(text, -1) {
		require.NotContains(t, p.nodes, m[1], "node %s declared twice", m[1])
		p.nodes[m[1]] = m[2]
	}
	for _, m := range groupRE.FindAllStringSubmatch(text, -1) {
		p.groups[m[1]] = m[2]
	}
	for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
		p.links = append(p.links, pictureLink{m[1], m[4], m[3], m[2] == "-.->"})
	}
	lines := strings.Count(text, "\n") - 1
	require.Equal(t, lines, len(p.nodes)+2*len(p.groups)+len(p.links), "every line is a node, a subgraph's start or end, or a link")
	for _, l := range p.links {
		for _, id := range []string{l.from, l.to} {
			_, node := p.nodes[id]
			_, group := p.groups[id]
			require.True(t, node || group, "link %s → %s names an undeclared %s", l.from, l.to, id)
		}
	}
	return p
}

// node returns the id of the one node whose label contains s.
func (p picture) node(t *testing.T, s string) string {
	t.Helper()
	var ids []string
	for id, label := range p.nodes {
		if strings.Contains(label, s) {
			ids = append(ids, id)
		}
	}
	require.Len(t, ids, 1, "one node labelled %q", s)
	return ids[0]
}

// group returns the id of the one subgraph whose title contains s.
func (p picture) group(t *testing.T, s string) string {
	t.Helper()
	for id, title := range p.groups {
		if strings.Contains(title, s) {
			return id
		}
	}
	t.Fatalf("no subgraph titled %q in %v", s, p.groups)
	return ""
}

// requireLink checks a link from → to with a label.
func (p picture) requireLink(t *testing.T, from, to, label string) {
	t.Helper()
	for _, l := range p.links {
		if l.from == from && l.to == to && l.label == label {
			return
		}
	}
	t.Fatalf("no link %s -->|%q| %s in %v", from, label, to, p.links)
}

func systemPicture(t *testing.T, args ...string) (string, picture) {
	t.Helper()
	code, out, stderr := synth(append([]string{"-format", "mermaid"}, args...)...)
	require.Equal(t, 0, code, stderr)
	return out, readPicture(t, out)
}

func stackServices(t *testing.T, stack string) []config.Service {
	t.Helper()
	s, err := synthesize(stack, "")
	require.NoError(t, err)
	return s.Config.Services
}

func TestSystemPictureOfProd(t *testing.T) {
	_, p := systemPicture(t, "-stack", "prod")
	require.LessOrEqual(t, len(p.nodes), maxNodes)
	require.Contains(t, p.groups, p.group(t, "ALB prod-alb, internet-facing"))
	http, https := p.node(t, "listener :80 HTTP"), p.node(t, "listener :443 HTTPS")
	tg, proxy := p.node(t, "target group prod-tg"), p.node(t, "HAProxy :8080 HTTP")
	p.requireLink(t, "internet", http, "tcp 80 from 0.0.0.0/0")
	p.requireLink(t, "internet", https, "tcp 443 from 0.0.0.0/0")
	p.requireLink(t, http, https, "redirect 301")
	p.requireLink(t, https, tg, "forward")
	p.requireLink(t, tg, proxy, "tcp 8080 by SG reference")
	requireServices(t, p, stackServices(t, "prod"), proxy, "immutable-edge/prod/")

	ssm := p.node(t, "SSM parameter /immutable-edge/prod/ami-id")
	p.requireLink(t, p.node(t, "Packer build of another stack"), ssm, "AMI id")
	lt := p.node(t, "launch template prod-lt")
	p.requireLink(t, ssm, lt, "read at deploy: "+plan.DefaultAMI)
	p.requireLink(t, lt, p.group(t, "Auto Scaling group prod-asg: 2 to 4 instances"), "version 1, refresh by pulumi up, rollback on 5 alarms")
	require.NotContains(t, strings.Join(slices.Collect(maps.Values(p.nodes)), "\n"), "Elastic IP")
}

func TestSystemPictureOfDev(t *testing.T) {
	_, p := systemPicture(t, "-stack", "dev")
	require.LessOrEqual(t, len(p.nodes), maxNodes)
	eip := p.node(t, "Elastic IP dev-eip")
	http, https := p.node(t, "HAProxy :80 HTTP"), p.node(t, "HAProxy :443 TLS")
	p.requireLink(t, "internet", eip, "")
	p.requireLink(t, eip, http, "tcp 80 from 0.0.0.0/0")
	p.requireLink(t, eip, https, "tcp 443 from 0.0.0.0/0")
	p.requireLink(t, http, https, "redirect 308")
	requireServices(t, p, stackServices(t, "dev"), https, "immutable-edge/dev/")

	ssm := p.node(t, "SSM parameter /immutable-edge/dev/ami-id")
	p.requireLink(t, p.node(t, "Packer build<br/>images/build.sh"), ssm, "AMI id")
	lt := p.node(t, "launch template dev-lt")
	require.Contains(t, p.nodes[lt], "public IP")
	p.requireLink(t, ssm, lt, "imageId")
	p.requireLink(t, lt, p.group(t, "Auto Scaling group dev-asg"), "version 1, refresh by pulumi up, rollback on 2 alarms")
	for _, label := range p.nodes {
		require.NotContains(t, label, "listener")
	}
}

// requireServices checks each service hangs off the routing HAProxy port, with its container
// port and the repository it pulls from.
func requireServices(t *testing.T, p picture, services []config.Service, proxy, repoPrefix string) {
	t.Helper()
	require.NotEmpty(t, services)
	for _, s := range services {
		svc, ctr := p.node(t, "service "+s.Name+"<br/>"), p.node(t, "container "+s.Image+"<br/>")
		require.Contains(t, p.nodes[ctr], fmt.Sprintf("port %d", s.Port))
		p.requireLink(t, proxy, svc, "Host "+s.Host)
		p.requireLink(t, svc, ctr, fmt.Sprintf("127.0.0.1:%d", s.Port))
		p.requireLink(t, p.node(t, "ECR "+repoPrefix+s.Name+"<br/>"), ctr, "pull, tcp 443 to 0.0.0.0/0")
	}
}

func TestSystemPictureFollowsThePlan(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	_, before := systemPicture(t, "-stack", "prod")

	var services []any
	require.NoError(t, json.Unmarshal([]byte(prod["immutable-edge:services"]), &services))
	docs := map[string]any{"name": "docs", "image": "docs:0.9.0", "port": 3002, "host": "docs.example.com", "pathPrefix": "/guide", "healthPath": "/ready"}
	more := prod.With("services", append(services, docs)).Set("image.build", true).With("instanceType", "t4g.medium").With("monthlyBudgetUsd", "300")
	_, after := systemPicture(t, "-stack", "prod", "-config-file", writeConfig(t, "prod", more))

	require.Len(t, after.nodes, len(before.nodes)+3, "a service, its container and its repository")
	svc := after.node(t, "service docs")
	after.requireLink(t, after.node(t, "HAProxy :8080"), svc, "Host docs.example.com, path /guide")
	after.requireLink(t, svc, after.node(t, "container docs:0.9.0"), "127.0.0.1:3002")
	after.node(t, "ECR immutable-edge/prod/docs")
	// Building the image here replaces the read of a promoted one.
	ssm := after.node(t, "SSM parameter /immutable-edge/prod/ami-id")
	after.requireLink(t, after.node(t, "Packer build<br/>images/build.sh"), ssm, "AMI id")
	after.requireLink(t, ssm, after.node(t, "launch template prod-lt<br/>t4g.medium"), "imageId")
}

func TestSystemPictureShowsAPortNothingListensOn(t *testing.T) {
	s, err := synthesize("prod", "")
	require.NoError(t, err)
	lt := s.Plan.OfType(launchTemplateType)[0]
	// URNs stay sorted: this one sorts after every urn:pulumi:… of the plan.
	s.Plan.Resources = append(s.Plan.Resources, plan.Resource{URN: "zz-open", Type: ingressType, Name: "open", Custom: true,
		Inputs: resource.NewPropertyMapFromMap(map[string]any{
			"securityGroupId": lt.Strings("networkInterfaces.0.securityGroups")[0],
			"ipProtocol":      "tcp", "fromPort": 9000, "toPort": 9000, "cidrIpv4": "10.0.0.0/8",
		})})
	text, err := System(s)
	require.NoError(t, err)
	p := readPicture(t, text)
	p.requireLink(t, "internet", p.node(t, "port 9000<br/>no HAProxy frontend"), "tcp 9000 from 10.0.0.0/8")
}

func TestSystemPictureIsByteIdenticalAcrossRuns(t *testing.T) {
	for _, s := range []string{"dev", "prod"} {
		first, _ := systemPicture(t, "-stack", s)
		second, _ := systemPicture(t, "-stack", s)
		require.Equal(t, first, second, "%s: same config, same bytes", s)
	}
}

func TestLabelsAreEscaped(t *testing.T) {
	require.Equal(t, `"say #quot;hi#quot; #lt;b#gt; #35;1<br/>next"`, quote(`say "hi" <b> #1`, "next"))
	f := flowchart{}
	f.add("a", "box", `x "y"`)
	require.Equal(t, "flowchart LR\n  a[\"x #quot;y#quot;\"]\n", f.String())
	require.Equal(t, f.String(), f.String(), "rendering leaves the labels as they were")
}

var frontendTests = []struct {
	name, cfg string
	want      []frontend
}{
	{"loopback only", "frontend stats\n    bind 127.0.0.1:8404\n", nil},
	{"tls with routes", "frontend https\n    bind :443 ssl crt /x.pem\n    use_backend svc_a if { var(txn.host) -m str a }\n",
		[]frontend{{port: 443, tls: true, routes: true}}},
	{"redirect", "frontend http\n    bind :80\n    http-request redirect scheme https code 308\nbackend b\n    use_backend x\n",
		[]frontend{{port: 80, redirectScheme: "https", redirectCode: "308"}}},
}

func TestFrontends(t *testing.T) {
	for _, tt := range frontendTests {
		got, err := frontends(tt.cfg)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got, tt.name)
	}
	_, err := frontends("frontend x\n    bind :http\n")
	require.ErrorContains(t, err, "want [address]:port")
}
