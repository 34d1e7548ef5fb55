package main

import (
	"fmt"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Mermaid renders the plan as a flowchart GitHub can draw: one subgraph per component holding
// its resources, and an edge from each resource to every resource that depends on it.
func Mermaid(p *plan.Plan) string {
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
