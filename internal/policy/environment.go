package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
)

// secretWords are the words of a variable name (split at _) that say its value is a secret;
// the names checkov's and gitleaks' generic rules look for.
var secretWords = []string{
	"APIKEY", "CREDENTIAL", "CREDENTIALS", "KEY", "PASS", "PASSPHRASE", "PASSWD", "PASSWORD", "PWD",
	"SECRET", "SECRETS", "TOKEN", "TOKENS",
}

// plainSuffixes end a name whose value is about a secret rather than the secret itself:
// AWS_ACCESS_KEY_ID, JWT_SECRET_FILE, TOKEN_TTL.
var plainSuffixes = []string{
	"ALGORITHM", "ARN", "FILE", "HEADER", "ID", "LENGTH", "NAME", "PATH", "PREFIX", "REGION", "SIZE", "TTL", "TYPE",
}

// credentialURLRE is a URL with a password in it: postgres://app:hunter2@db/app.
var credentialURLRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@`)

var environmentRules = []Rule{
	{ID: "IE_ENV_SECRETS", Ref: "checkov CKV_AWS_46 (the environment travels in user-data)", Severity: High,
		Rationale: "A service's environment is plain config, in user-data and the plan for anyone who can read them; a secret belongs in its secrets, read by the instance role at container start.",
		check: func(c *Context) []Finding {
			var bad []string
			n := 0
			for i, s := range c.Services {
				for _, name := range slices.Sorted(maps.Keys(s.Environment)) {
					n++
					if why := secretLooking(name, s.Environment[name]); why != "" {
						bad = append(bad, fmt.Sprintf("%s:services[%d].environment.%s %s: move it to services[%d].secrets (an SSM SecureString or Secrets Manager reference)",
							config.Namespace, i, name, why, i))
					}
				}
			}
			var out []Finding
			for _, r := range c.Plan.Resources {
				if r.Custom && r.Type == tLaunchTemplate {
					ok, why := verdict(len(bad) == 0, fmt.Sprintf("%d environment variables, none looks like a secret", n), strings.Join(bad, "; "))
					out = append(out, Finding{Resource: r, OK: ok, Reason: why})
				}
			}
			return out
		}},
}

// secretLooking says why a literal environment value looks like a secret, or "" when it does not.
func secretLooking(name, value string) string {
	if value == "" {
		return ""
	}
	for _, re := range secretPatterns[:3] { // AWS keys and private keys, whatever the name
		if re.MatchString(value) {
			return "holds what looks like a credential"
		}
	}
	if credentialURLRE.MatchString(value) {
		return "is a URL with a password in it"
	}
	words := strings.Split(strings.ToUpper(name), "_")
	if slices.Contains(plainSuffixes, words[len(words)-1]) {
		return ""
	}
	for _, w := range words {
		// PGPASSWORD, GHTOKEN: the long words end a word too; KEY, PASS and PWD only stand alone
		// (MONKEY, COMPASS).
		if slices.Contains(secretWords, w) || slices.ContainsFunc(secretWords, func(s string) bool { return len(s) > 4 && strings.HasSuffix(w, s) }) {
			return fmt.Sprintf("has a literal value and its name says it is a secret (%s)", w)
		}
	}
	return ""
}
