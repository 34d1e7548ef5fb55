package awsapi

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// evaluate applies a rule: whether the value passes, why not, and whether the rule could be
// applied at all.
func evaluate(r Rule, s string) (bool, string, bool) {
	switch r.Kind {
	case "len":
		n := int64(len(s))
		if (r.Min != nil && n < *r.Min) || (r.Max != nil && n > *r.Max) {
			return false, fmt.Sprintf("%d characters, the provider allows %s", n, bounds(r)), true
		}
		return true, "", true
	case "range":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false, "not a number", true
		}
		if (r.Min != nil && f < float64(*r.Min)) || (r.Max != nil && f > float64(*r.Max)) {
			return false, "outside " + bounds(r), true
		}
		return true, "", true
	case "match", "notMatch":
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return false, "", false
		}
		if re.MatchString(s) != (r.Kind == "match") {
			verb := "does not match"
			if r.Kind == "notMatch" {
				verb = "must not match"
			}
			return false, verb + " " + r.Pattern, true
		}
		return true, "", true
	case "enum":
		if slices.ContainsFunc(r.Values, func(v string) bool { return v == s || (r.Fold && strings.EqualFold(v, s)) }) {
			return true, "", true
		}
		return false, "not one of " + strings.Join(r.Values, ", "), true
	case "never":
		return false, "the provider accepts no value here", true
	case "all":
		checked := false
		for _, o := range r.Of {
			ok, why, c := evaluate(o, s)
			checked = checked || c
			if c && !ok {
				return false, why, true
			}
		}
		return true, "", checked
	case "any":
		var whys []string
		for _, o := range r.Of {
			ok, why, c := evaluate(o, s)
			if !c {
				return true, "", false // an unreadable alternative might accept it
			}
			if ok {
				return true, "", true
			}
			if o.Kind == "len" && o.Min == nil && o.Max != nil && *o.Max == 0 {
				continue // "or empty": not a reason worth giving for a value that is not
			}
			whys = append(whys, why)
		}
		return false, strings.Join(whys, "; and "), true
	case "not":
		ok, _, c := evaluate(r.Of[0], s)
		return !ok, "must not satisfy " + describe(r.Of[0]), c
	case "named":
		if f, ok := namedRules[r.Name]; ok {
			if why := f(s); why != "" {
				return false, why, true
			}
			return true, "", true
		}
	}
	return true, "", false
}

func bounds(r Rule) string {
	switch {
	case r.Min == nil && r.Max != nil:
		return "at most " + strconv.FormatInt(*r.Max, 10)
	case r.Max == nil && r.Min != nil:
		return "at least " + strconv.FormatInt(*r.Min, 10)
	case r.Min != nil && r.Max != nil:
		return "between " + strconv.FormatInt(*r.Min, 10) + " and " + strconv.FormatInt(*r.Max, 10)
	}
	return "any"
}

func describe(r Rule) string {
	if r.Name != "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind
}

// namedRules are the provider's semantic validators this checker implements, as the
// provider's helpers define them (terraform-plugin-sdk helper/validation; the provider's
// internal/verify).
var namedRules = map[string]func(string) string{
	"validation.StringIsJSON":   isJSON,
	"verify.ValidIAMPolicyJSON": isJSON,
	"validation.NoZeroValues": func(s string) string {
		if s == "" || s == "0" || s == "false" {
			return "must not be the zero value"
		}
		return ""
	},
	"validation.StringIsNotEmpty": func(s string) string {
		if s == "" {
			return "must not be empty"
		}
		return ""
	},
	"validation.IsPortNumber": func(s string) string {
		if n, err := strconv.Atoi(s); err != nil || n < 1 || n > 65535 {
			return "not a port number (1-65535)"
		}
		return ""
	},
	"validation.IsIPv4Address": func(s string) string {
		if ip := net.ParseIP(s); ip == nil || ip.To4() == nil {
			return "not an IPv4 address"
		}
		return ""
	},
	"validation.IsCIDRNetwork":           cidrNetwork,
	"verify.ValidIPv4CIDRNetworkAddress": cidrNetwork,
	"verify.ValidAccountID": func(s string) string {
		if !regexp.MustCompile(`^\d{12}$`).MatchString(s) {
			return "not a 12-digit account id"
		}
		return ""
	},
	"verify.ValidARNCheck":                        validARN,
	"verify.ValidARN":                             validARN,
	"framework/validators.IPv4CIDRNetworkAddress": cidrNetwork,
}

func isJSON(s string) string {
	if !json.Valid([]byte(s)) {
		return "not valid JSON"
	}
	return ""
}

func cidrNetwork(s string) string {
	_, n, err := net.ParseCIDR(s)
	if err != nil || n.String() != s {
		return "not a CIDR network address"
	}
	return ""
}

// validARN is internal/verify's ValidARN: arn:partition:service:region:account:resource, with
// a non-empty partition and resource.
func validARN(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return "not an ARN"
	}
	if parts[4] != "" && !regexp.MustCompile(`^(aws|aws-managed|third-party|aws-marketplace|\d{12}|cw.{10})$`).MatchString(parts[4]) {
		return "not an ARN (account)"
	}
	return ""
}
