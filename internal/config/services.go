package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Limits on a service's environment and secrets: the environment travels in user-data (16 KB
// for the whole payload), and each secret is one read at container start.
const (
	MaxEnvironment   = 40   // variables per service
	MaxEnvValue      = 1024 // bytes of one value
	MaxSecrets       = 20   // secrets per service
	MaxHealthCommand = 16   // words of a worker's health command
)

var (
	// envNameRE is a POSIX environment variable name (IEEE Std 1003.1, 8.1), which is also a safe
	// file name under /run/secrets.
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	// secretNameRE is what Secrets Manager accepts in a secret's name
	// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html, Name).
	secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	// secretARNRE is a secret's ARN: its name, a hyphen and the six random characters Secrets
	// Manager appends.
	secretARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):[0-9]{12}:secret:([A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}$`)
	// sixSuffixRE is a name that ends like an ARN's random suffix. Secrets Manager advises against
	// it: a name ending in a hyphen and six characters is taken for a partial ARN
	// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen).
	sixSuffixRE = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)
)

// reservedEnv are variables the unit sets itself.
var reservedEnv = map[string]string{"PORT": "the port a web service listens on"}

func (c *Config) validateServices() error {
	var errs problems
	fail := errs.add
	switch {
	case len(c.Services) == 0:
		fail(key("services"), "needs at least one service for HAProxy to route to")
	case len(c.Services) > MaxServices:
		fail(key("services"), "has %d services; one instance runs at most %d (and user-data must fit 16 KB)", len(c.Services), MaxServices)
	case len(c.WebServices()) == 0:
		fail(key("services"), "needs at least one web service (with a port and host) for HAProxy to route to; every service here is a worker")
	}
	names, ports, routes := map[string]bool{}, map[int]string{}, map[string]string{}
	for i, s := range c.Services {
		k := fmt.Sprintf("%s[%d]", key("services"), i)
		switch {
		case !serviceNameRE.MatchString(s.Name):
			fail(k+".name", "%q must be a lowercase DNS label of at most 32 characters", s.Name)
		case names[s.Name]:
			fail(k+".name", "%q is used by another service", s.Name)
		}
		names[s.Name] = true
		if err := validImage(s.Name, s.Image); err != nil {
			fail(k+".image", "%v", err)
		}
		if s.Worker() {
			errs = append(errs, flatten(c.validateWorker(k, s))...)
		} else {
			errs = append(errs, flatten(c.validateWeb(k, s, ports, routes))...)
		}
		errs = append(errs, flatten(c.validateEnvironment(k, Workload{s.Name, s.Image, s.Environment, s.Secrets}))...)
	}
	errs = append(errs, flatten(c.validateJobs(names))...)
	return errors.Join(errs...)
}

// validateWeb checks what routes a web service: its port, host and paths.
func (c *Config) validateWeb(k string, s Service, ports map[int]string, routes map[string]string) error {
	var errs problems
	fail := errs.add
	switch {
	case s.Port < 1024 || s.Port > 65535:
		fail(k+".port", "must be 1024..65535, got %d (leave it out, with host, for a worker)", s.Port)
	case reservedPorts[s.Port] != "":
		fail(k+".port", "%d is taken on the instance by %s", s.Port, reservedPorts[s.Port])
	case ports[s.Port] != "":
		fail(k+".port", "%d is used by service %q", s.Port, ports[s.Port])
	default:
		ports[s.Port] = s.Name
	}
	switch {
	case s.Host == "":
		fail(k+".host", "is required for a web service (one with a port); a worker has neither port nor host")
	case !isDNSName(s.Host) || (s.Host != c.Domain && !strings.HasSuffix(s.Host, "."+c.Domain)):
		fail(k+".host", "%q must be a DNS name equal to or under %q", s.Host, c.Domain)
	}
	if s.PathPrefix != "" && (len(s.PathPrefix) > MaxPathLength || !urlPathRE.MatchString(s.PathPrefix)) {
		fail(k+".pathPrefix", "%q must be a URL path starting with / of at most %d characters: letters, digits, %s and %%-escapes", s.PathPrefix, MaxPathLength, "-._~!*+,;=:@/")
	}
	if len(s.HealthPath) > MaxPathLength || !healthPathRE.MatchString(s.HealthPath) {
		fail(k+".healthPath", "%q must be a URL path starting with / of at most %d characters: letters, digits, %s and %%-escapes", s.HealthPath, MaxPathLength, "-._~!*+,;=:@/?&")
	}
	if len(s.HealthCommand) > 0 {
		fail(k+".healthCommand", "is for workers; HAProxy checks a web service at its healthPath")
	}
	route := s.Host + s.PathPrefix
	if other, dup := routes[route]; dup {
		fail(k+".host", "%s%s is already routed to service %q", s.Host, s.PathPrefix, other)
	}
	routes[route] = s.Name
	return errors.Join(errs...)
}

// validateWorker refuses what only routing uses: a worker is not behind HAProxy.
func (c *Config) validateWorker(k string, s Service) error {
	var errs problems
	for field, set := range map[string]bool{"host": s.Host != "", "pathPrefix": s.PathPrefix != "", "healthPath": s.HealthPath != ""} {
		if set {
			errs.add(k+"."+field, "is set on a worker (a service without a port), which nothing routes to; give it a port to make it a web service, or drop %s", field)
		}
	}
	if n := len(s.HealthCommand); n > MaxHealthCommand {
		errs.add(k+".healthCommand", "has %d words; at most %d", n, MaxHealthCommand)
	}
	for j, w := range s.HealthCommand {
		if w == "" || len(w) > 256 || strings.ContainsAny(w, "\x00\n\r") {
			errs.add(fmt.Sprintf("%s.healthCommand[%d]", k, j), "must be 1..256 characters without line breaks (exec form: one word each, no shell)")
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// validateEnvironment checks the names and values of a service's environment and secret references.
func (c *Config) validateEnvironment(k string, s Workload) error {
	var errs problems
	fail := errs.add
	if len(s.Environment) > MaxEnvironment {
		fail(k+".environment", "has %d variables; at most %d", len(s.Environment), MaxEnvironment)
	}
	for _, name := range sortedKeys(s.Environment) {
		v, ek := s.Environment[name], k+".environment."+name
		switch {
		case !envNameRE.MatchString(name):
			fail(ek, "is not an environment variable name: letters, digits and _, not starting with a digit, at most 128")
		case reservedEnv[name] != "":
			fail(ek, "is set by the unit itself (%s)", reservedEnv[name])
		case len(v) > MaxEnvValue:
			fail(ek, "is %d bytes; a value may have at most %d", len(v), MaxEnvValue)
		case strings.ContainsAny(v, "\x00\n\r"):
			fail(ek, "holds a line break; Docker's env file takes one line per variable")
		}
	}
	if len(s.Secrets) > MaxSecrets {
		fail(k+".secrets", "has %d secrets; at most %d", len(s.Secrets), MaxSecrets)
	}
	for _, name := range sortedKeys(s.Secrets) {
		sk := k + ".secrets." + name
		switch {
		case !envNameRE.MatchString(name):
			fail(sk, "is not a secret name: letters, digits and _, not starting with a digit, at most 128 (it is the file /run/secrets/<name>)")
		case s.Environment[name] != "":
			fail(sk, "is also in environment; a name is a plain value or a secret, not both")
		}
		if err := c.validateSecretRef(sk, s.Secrets[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SSMPrefix is where a stack's SSM parameters live: its image channel and its secrets. The
// stack's permissions boundary (account/) allows reading parameters under it only.
func (c *Config) SSMPrefix() string { return "/" + c.Project + "/" + c.Stack + "/" }

// SecretsPrefix is where the names of a stack's Secrets Manager secrets start; the boundary
// allows reading those only.
func (c *Config) SecretsPrefix() string { return c.Project + "/" + c.Stack + "/" }

func (c *Config) validateSecretRef(k string, r SecretRef) error {
	sources := 0
	for _, set := range []bool{r.SSM != "", r.SecretsManager != "", r.Database != "", r.Cache != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources != 1:
		return &KeyError{Key: k, Reason: "needs exactly one of ssm (a SecureString parameter name), secretsManager (a secret's name or ARN), database or cache (url or password)"}
	case r.Database != "" || r.Cache != "":
		return c.validateDataRef(k, r)
	case r.SSM != "":
		if r.Key != "" {
			return &KeyError{Key: k + ".key", Reason: "is for Secrets Manager secrets that hold JSON; an SSM parameter is one value"}
		}
		if err := validSSMName(r.SSM); err != nil {
			return &KeyError{Key: k + ".ssm", Reason: err.Error()}
		}
		if !strings.HasPrefix(r.SSM, c.SSMPrefix()) {
			return &KeyError{Key: k + ".ssm", Reason: fmt.Sprintf("%q is outside this stack's prefix %s: the instance role may read only the stack's own parameters", r.SSM, c.SSMPrefix())}
		}
	default:
		name := r.SecretsManager
		if m := secretARNRE.FindStringSubmatch(name); m != nil {
			if m[1] != c.Region {
				return &KeyError{Key: k + ".secretsManager", Reason: fmt.Sprintf("%q is in %s; the stack runs in %s", name, m[1], c.Region)}
			}
			name = m[2]
		} else if strings.HasPrefix(name, "arn:") {
			return &KeyError{Key: k + ".secretsManager", Reason: fmt.Sprintf("%q is not a secret's ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)", name)}
		} else if sixSuffixRE.MatchString(name) {
			return &KeyError{Key: k + ".secretsManager", Reason: fmt.Sprintf("%q ends in a hyphen and six characters, which Secrets Manager takes for an ARN's suffix; rename the secret or give its full ARN", name)}
		}
		switch {
		case !secretNameRE.MatchString(name):
			return &KeyError{Key: k + ".secretsManager", Reason: fmt.Sprintf("%q is not a secret name (letters, digits and /_+=.@-, at most 512)", name)}
		case !strings.HasPrefix(name, c.SecretsPrefix()):
			return &KeyError{Key: k + ".secretsManager", Reason: fmt.Sprintf("%q is outside this stack's prefix %s: the instance role may read only the stack's own secrets", name, c.SecretsPrefix())}
		case len(r.Key) > 256 || strings.ContainsAny(r.Key, "\x00\n\r"):
			return &KeyError{Key: k + ".key", Reason: "must be at most 256 characters without line breaks"}
		}
	}
	return nil
}

// validateDataRef checks a secret the stack's own database or cache provides.
func (c *Config) validateDataRef(k string, r SecretRef) error {
	what, field, has := r.Database, "database", c.Database != nil
	if r.Cache != "" {
		what, field, has = r.Cache, "cache", c.Cache != nil
	}
	switch {
	case r.Key != "":
		return &KeyError{Key: k + ".key", Reason: "is for Secrets Manager secrets that hold JSON; " + field + " gives url or password"}
	case what != DataURL && what != DataPassword:
		return &KeyError{Key: k + "." + field, Reason: fmt.Sprintf("must be %q or %q, got %q", DataURL, DataPassword, what)}
	case !has:
		return &KeyError{Key: k + "." + field, Reason: fmt.Sprintf("names the stack's %s, but the stack has none (set %s)", field, key(field))}
	}
	return nil
}

// CheckAccount checks that every secret given by ARN is in the account the stack deploys in;
// Deploy calls it once the account is known, still before any resource is registered.
func (c *Config) CheckAccount(account string) error {
	var errs problems
	for i, w := range c.Workloads() {
		k := fmt.Sprintf("%s[%d]", key("services"), i)
		if i >= len(c.Services) {
			k = fmt.Sprintf("%s[%d]", key("jobs"), i-len(c.Services))
		}
		for _, name := range sortedKeys(w.Secrets) {
			if m := secretARNRE.FindStringSubmatch(w.Secrets[name].SecretsManager); m != nil {
				if got := strings.Split(m[0], ":")[4]; got != account {
					errs.add(fmt.Sprintf("%s.secrets.%s.secretsManager", k, name),
						"%q is in account %s; the stack deploys in %s and reads only its own secrets", m[0], got, account)
				}
			}
		}
	}
	return errors.Join(errs...)
}
