package main

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// haproxyConfig is where the instance payload puts HAProxy's configuration.
const haproxyConfig = "/etc/haproxy/haproxy.cfg"

// frontend is one HAProxy frontend the instances expose beyond loopback.
type frontend struct {
	port           int
	tls            bool   // the bind terminates TLS
	redirectScheme string // "https" when it answers by redirecting to that scheme
	redirectCode   string // the status of that redirect
	routes         bool   // it sends requests on to the service backends
}

// instanceFrontends reads the frontends from the haproxy.cfg in the launch template's
// user-data: what the instances listen on is what the picture shows, not what the config
// implies.
func instanceFrontends(lt plan.Resource) ([]frontend, error) {
	ud, err := base64.StdEncoding.DecodeString(lt.Str("userData"))
	if err != nil {
		return nil, fmt.Errorf("launch template %s: user-data: %w", lt.Name, err)
	}
	files, err := bootstrap.Files(string(ud))
	if err != nil {
		return nil, fmt.Errorf("launch template %s: %w", lt.Name, err)
	}
	for _, f := range files {
		if f.Path == haproxyConfig {
			return frontends(f.Content)
		}
	}
	return nil, fmt.Errorf("launch template %s: user-data writes no %s", lt.Name, haproxyConfig)
}

// frontends parses the frontend sections of an haproxy.cfg, skipping those bound to loopback.
func frontends(cfg string) ([]frontend, error) {
	var out []frontend
	in, public := false, false
	for _, line := range strings.Split(cfg, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' { // a section starts at the margin
			in, public = f[0] == "frontend", false
			continue
		}
		if !in {
			continue
		}
		switch {
		case f[0] == "bind" && len(f) > 1:
			addr, port, ok := strings.Cut(f[1], ":")
			n, err := strconv.Atoi(port)
			if !ok || err != nil {
				return nil, fmt.Errorf("%s: bind %q: want [address]:port", haproxyConfig, f[1])
			}
			public = addr == "" || addr == "*" || addr == "0.0.0.0"
			if public {
				out = append(out, frontend{port: n, tls: slices.Contains(f[2:], "ssl")})
			}
		case !public:
		case f[0] == "http-request" && len(f) > 2 && f[1] == "redirect":
			fe := &out[len(out)-1]
			for i := 2; i+1 < len(f); i++ {
				switch f[i] {
				case "scheme":
					fe.redirectScheme = f[i+1]
				case "code":
					fe.redirectCode = f[i+1]
				}
			}
		case f[0] == "use_backend":
			out[len(out)-1].routes = true
		}
	}
	return out, nil
}
