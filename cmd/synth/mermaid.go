package main

import (
	"fmt"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Node shapes, as Mermaid writes them around a quoted label.
var shapes = map[string][2]string{
	"box":      {"[", "]"},
	"round":    {"(", ")"},
	"circle":   {"((", "))"},
	"cylinder": {"[(", ")]"},
	"stadium":  {"([", "])"},
}

// node is one box of a flowchart; lines of its label are shown one under the other.
type node struct {
	id, shape string
	lines     []string
}

// group is a subgraph: a titled frame around nodes.
type group struct {
	id, title string
	nodes     []node
}

// link is an arrow, solid or dotted, with an optional label.
type link struct {
	from, to, label string
	dotted          bool
}

// flowchart is a Mermaid flowchart built in order, so the same plan gives the same bytes.
type flowchart struct {
	nodes  []node // outside every subgraph
	groups []group
	links  []link
}

func (f *flowchart) add(id, shape string, lines ...string) string {
	f.nodes = append(f.nodes, node{id, shape, lines})
	return id
}

// addTo puts a node in group g (an index into f.groups).
func (f *flowchart) addTo(g int, id, shape string, lines ...string) string {
	f.groups[g].nodes = append(f.groups[g].nodes, node{id, shape, lines})
	return id
}

func (f *flowchart) group(id, title string) int {
	f.groups = append(f.groups, group{id: id, title: title})
	return len(f.groups) - 1
}

func (f *flowchart) link(from, to, label string) {
	f.links = append(f.links, link{from, to, label, false})
}
func (f *flowchart) dotted(from, to, label string) {
	f.links = append(f.links, link{from, to, label, true})
}

// String declares every node inside its subgraph before any link names it: Mermaid places a
// node where it first appears.
func (f *flowchart) String() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	writeNode := func(indent string, n node) {
		s := shapes[n.shape]
		fmt.Fprintf(&b, "%s%s%s%s%s\n", indent, n.id, s[0], quote(n.lines...), s[1])
	}
	for _, n := range f.nodes {
		writeNode("  ", n)
	}
	for _, g := range f.groups {
		fmt.Fprintf(&b, "  subgraph %s[%s]\n", g.id, quote(g.title))
		for _, n := range g.nodes {
			writeNode("    ", n)
		}
		b.WriteString("  end\n")
	}
	for _, l := range f.links {
		arrow := "-->"
		if l.dotted {
			arrow = "-.->"
		}
		if l.label != "" {
			arrow += "|" + quote(l.label) + "|"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", l.from, arrow, l.to)
	}
	return b.String()
}

// labelEscapes turns the characters that end or mark up a Mermaid label into its entity codes.
var labelEscapes = strings.NewReplacer(`"`, "#quot;", "#", "#35;", "<", "#lt;", ">", "#gt;")

// quote is a Mermaid string: quoted, so brackets and colons in names are text, with lines
// joined by <br/>.
func quote(lines ...string) string {
	escaped := make([]string, len(lines))
	for i, l := range lines {
		escaped[i] = labelEscapes.Replace(l)
	}
	return `"` + strings.Join(escaped, "<br/>") + `"`
}

// DependencyGraph renders every resource of the plan: one subgraph per component holding its
// resources, and an edge from each resource to every resource that depends on it.
func DependencyGraph(p *plan.Plan) string {
	ids := map[string]string{}
	for i, r := range p.Resources {
		ids[r.URN] = fmt.Sprintf("r%d", i)
	}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, c := range p.Resources {
		if c.Custom || c.Type == "pulumi:pulumi:Stack" {
			continue
		}
		fmt.Fprintf(&b, "  subgraph %s[%q]\n", ids[c.URN], shortType(c.Type)+" "+c.Name)
		for _, r := range p.Children(c.URN) {
			fmt.Fprintf(&b, "    %s[%q]\n", ids[r.URN], shortType(r.Type)+" "+r.Name)
		}
		b.WriteString("  end\n")
	}
	for _, r := range p.Resources {
		if !r.Custom {
			continue
		}
		for _, dep := range r.DependsOn {
			if d, ok := p.ByURN(dep); ok && d.Custom {
				fmt.Fprintf(&b, "  %s --> %s\n", ids[dep], ids[r.URN])
			}
		}
	}
	return b.String()
}

// shortType is the last part of a type token: aws:ec2/vpc:Vpc → Vpc.
func shortType(token string) string { return token[strings.LastIndex(token, ":")+1:] }
