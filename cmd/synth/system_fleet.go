package main

import (
	"fmt"
	"iter"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// httpsPort is how the instances reach ECR's API and image layers.
const httpsPort = 443

// instances draws what runs in the group: HAProxy's public frontends, the security group rules
// that reach them, and each service with its container.
func (d *system) instances() error {
	fronts, err := instanceFrontends(d.lt)
	if err != nil {
		return err
	}
	var routing []string
	tls := ""
	for _, fe := range fronts {
		lines := []string{fmt.Sprintf("HAProxy :%d HTTP", fe.port)}
		if fe.tls {
			lines[0] = fmt.Sprintf("HAProxy :%d TLS", fe.port)
		}
		if fe.routes {
			lines = append(lines, "routes by Host")
		}
		id := d.f.addTo(d.fleet, fmt.Sprintf("hp%d", fe.port), "box", lines...)
		d.proxies[fe.port] = id
		if fe.routes {
			routing = append(routing, id)
		}
		if fe.tls && tls == "" {
			tls = id
		}
	}
	for _, fe := range fronts {
		if fe.redirectScheme == "https" && tls != "" {
			d.f.dotted(d.proxies[fe.port], tls, strings.TrimSpace("redirect "+fe.redirectCode))
		}
	}
	d.services(routing)
	for _, sg := range d.instanceGroups() {
		for _, rule := range d.rules(ingressType, sg) {
			d.admit(rule)
		}
	}
	return nil
}

// services draws each configured service: the route HAProxy takes to it and its container on
// the loopback port.
func (d *system) services(routing []string) {
	for i, svc := range d.cfg.Services {
		lines := []string{"service " + svc.Name}
		if svc.HealthPath != "" {
			lines = append(lines, "check "+svc.HealthPath)
		}
		sid := d.f.addTo(d.fleet, fmt.Sprintf("svc%d", i), "round", lines...)
		cid := d.f.addTo(d.fleet, fmt.Sprintf("ctr%d", i), "box", "container "+svc.Image, fmt.Sprintf("port %d", svc.Port))
		route := "Host " + svc.Host
		if svc.PathPrefix != "" {
			route += ", path " + svc.PathPrefix
		}
		for _, r := range routing {
			d.f.link(r, sid, route)
		}
		d.f.link(sid, cid, fmt.Sprintf("127.0.0.1:%d", svc.Port))
	}
}

// admit links what an ingress rule lets in to the HAProxy ports it opens: a load balancer's
// target groups for a rule by security group reference; for an address range the internet,
// through the Elastic IP when the instances claim one.
func (d *system) admit(rule plan.Resource) {
	label := ruleLabel(rule, "from")
	if ref := rule.Str("referencedSecurityGroupId"); ref != "" {
		for _, t := range d.targets[ref] {
			if admits(rule, t.port) {
				d.f.link(t.id, d.proxy(t.port), label)
			}
		}
		return
	}
	from := "internet"
	if d.eip != "" {
		from = d.eip
	}
	if p := int(rule.Num("fromPort")); p > 0 && p == int(rule.Num("toPort")) {
		d.proxy(p) // an open port nothing listens on is worth seeing
	}
	for port, to := range sorted(d.proxies) {
		if admits(rule, port) {
			d.f.link(from, to, label)
		}
	}
}

// proxy is the node of an instance port, drawn on first use when HAProxy does not bind it.
func (d *system) proxy(port int) string {
	if id, ok := d.proxies[port]; ok {
		return id
	}
	d.proxies[port] = d.f.addTo(d.fleet, fmt.Sprintf("hp%d", port), "box", fmt.Sprintf("port %d", port), "no HAProxy frontend")
	return d.proxies[port]
}

// registry draws the repository each container pulls from, over the instances' egress rule
// for HTTPS.
func (d *system) registry() {
	label := "pull"
	if rule, ok := d.egress(httpsPort); ok {
		label += ", " + ruleLabel(rule, "to")
	}
	repos := d.p.OfType(repositoryType)
	for i, svc := range d.cfg.Services {
		// Service names have no slash: each is the last part of its repository's name.
		j := slices.IndexFunc(repos, func(r plan.Resource) bool { return path.Base(r.Str("name")) == svc.Name })
		if j < 0 {
			continue
		}
		lines := []string{"ECR " + repos[j].Str("name")}
		if m := repos[j].Str("imageTagMutability"); m != "" {
			lines = append(lines, strings.ToLower(m)+" tags")
		}
		d.f.dotted(d.f.add(fmt.Sprintf("ecr%d", i), "cylinder", lines...), fmt.Sprintf("ctr%d", i), label)
	}
}

// instanceGroups returns the ids of the security groups the launch template puts instances in.
func (d *system) instanceGroups() []string {
	ids := append(d.lt.Strings("networkInterfaces.0.securityGroups"), d.lt.Strings("vpcSecurityGroupIds")...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// egress returns an instance egress rule to an address range that allows a port.
func (d *system) egress(port int) (plan.Resource, bool) {
	for _, sg := range d.instanceGroups() {
		for _, r := range d.rules(egressType, sg) {
			if r.Str("cidrIpv4") != "" && admits(r, port) {
				return r, true
			}
		}
	}
	return plan.Resource{}, false
}

// rules returns the rules of one type on a security group, in URN order.
func (d *system) rules(token, groupID string) []plan.Resource {
	var out []plan.Resource
	for _, r := range d.p.OfType(token) {
		if r.Str("securityGroupId") == groupID {
			out = append(out, r)
		}
	}
	return out
}

// dependencies returns the resources of a type that r depends on, in URN order.
func (d *system) dependencies(r plan.Resource, token string) []plan.Resource {
	var out []plan.Resource
	for _, urn := range slices.Sorted(slices.Values(r.DependsOn)) {
		if dep, ok := d.p.ByURN(urn); ok && dep.Type == token {
			out = append(out, dep)
		}
	}
	return out
}

// dependency returns the first resource of a type that r depends on.
func (d *system) dependency(r plan.Resource, token string) (plan.Resource, bool) {
	if deps := d.dependencies(r, token); len(deps) > 0 {
		return deps[0], true
	}
	return plan.Resource{}, false
}

// admits reports whether a security group rule allows a TCP port.
func admits(r plan.Resource, port int) bool {
	switch r.Str("ipProtocol") {
	case "-1":
		return true
	case "tcp", "6":
		return int(r.Num("fromPort")) <= port && port <= int(r.Num("toPort"))
	}
	return false
}

// ruleLabel says what a rule allows and from (or to) where: "tcp 443 from 0.0.0.0/0",
// "tcp 8080 by SG reference".
func ruleLabel(r plan.Resource, dir string) string {
	what := "all traffic"
	if p := r.Str("ipProtocol"); p != "-1" {
		what = fmt.Sprintf("%s %d", p, int(r.Num("fromPort")))
		if to := int(r.Num("toPort")); to != int(r.Num("fromPort")) {
			what += fmt.Sprintf("-%d", to)
		}
	}
	for _, key := range []string{"cidrIpv4", "cidrIpv6", "prefixListId"} {
		if v := r.Str(key); v != "" {
			return what + " " + dir + " " + v
		}
	}
	if r.Str("referencedSecurityGroupId") != "" {
		return what + " by SG reference"
	}
	return what
}

// sorted yields a port map in port order, so links come out the same on every run.
func sorted(m map[int]string) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}
