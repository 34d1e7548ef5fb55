package bootstrap

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
)

type route struct{ Service, Host, PathPrefix string }

// HAProxyConfig renders haproxy.cfg for the stack's edge mode.
func HAProxyConfig(s Stack) (string, error) {
	web := s.WebServices()
	routes := make([]route, 0, len(web))
	for _, svc := range web {
		routes = append(routes, route{svc.Name, svc.Host, svc.PathPrefix})
	}
	// A longer path prefix must be tried before a shorter one (or none) on the same host.
	sort.SliceStable(routes, func(i, j int) bool {
		if routes[i].Host != routes[j].Host {
			return routes[i].Host < routes[j].Host
		}
		return len(routes[i].PathPrefix) > len(routes[j].PathPrefix)
	})
	// One line per service, "NAME up" or "NAME down", from the server count HAProxy sees now.
	var health strings.Builder
	for _, svc := range web {
		fmt.Fprintf(&health, `%s %%[nbsrv(svc_%s),bool,iif(up,down)]\n`, svc.Name, svc.Name)
	}
	data := map[string]any{
		"Stack": s.Stack, "Mode": s.Edge.Mode, "HealthPath": s.Edge.HealthPath,
		"ProxyPort": s.Edge.ProxyPort, "StatsPort": config.StatsPort, "VpcCIDR": s.Edge.VpcCIDR,
		"HSTS": HSTS, "CertPath": CertFile, "ErrorDir": ErrorDir,
		"Backends": web, "Routes": routes, "Domain": s.Domain, "Redirects": s.Redirects,
		"HealthBody": health.String(),
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "haproxy.cfg.tmpl", data); err != nil {
		return "", fmt.Errorf("bootstrap: haproxy.cfg: %w", err)
	}
	return b.String(), nil
}
