package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// KeyError reports a stack config key that failed validation.
type KeyError struct {
	Key    string // the full key, e.g. "immutable-edge:fleet.max" or "aws:region"
	Reason string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Reason }

// Keys lists every key of the immutable-edge namespace, as written in Pulumi.<stack>.yaml.
var Keys = []string{
	"alarms", "alb", "alertEmail", "azCount", "cache", "database", "detailedMonitoring", "domain", "edge", "fleet", "freeTier", "healing", "hostedZoneId", "image",
	"instanceSubnets", "instanceType", "jobs", "keepImages", "logRetentionDays", "monthlyBudgetUsd", "natGateways",
	"permissionsBoundary", "policyWaivers", "protect", "requiredTags", "rootVolumeGb", "s3Endpoint", "scaling", "services", "subjectAlternativeNames", "vpcCidr",
}

// required keys have no sensible default: they name the product, its address or its owner.
var required = []string{"alertEmail", "domain", "edge", "hostedZoneId", "monthlyBudgetUsd", "services"}

// AWS keys this program reads from the aws: namespace.
const (
	KeyRegion      = "aws:region"
	KeyDefaultTags = "aws:defaultTags"
)

// key returns the namespaced form of a project key.
func key(k string) string { return Namespace + ":" + k }

// Load reads one stack's configuration from the raw Pulumi config map (the PULUMI_CONFIG
// object: "namespace:key" → string, structured values JSON-encoded), applies defaults and
// validates it. The returned error joins every *KeyError found.
func Load(project, stack string, raw map[string]string) (*Config, error) {
	l := loader{raw: raw}
	c := &Config{Project: project, Stack: stack}
	if !l.checkSizes() {
		return nil, errors.Join(l.errs...)
	}
	l.unknownKeys()

	c.Region = l.str(KeyRegion)
	if v, ok := raw[KeyDefaultTags]; ok {
		var dt struct {
			Tags map[string]string `json:"tags"`
		}
		if l.decodeJSON(KeyDefaultTags, v, &dt) {
			c.DefaultTags = dt.Tags
		}
	}
	c.Edge = l.str(key("edge"))
	c.Domain = l.str(key("domain"))
	c.HostedZoneID = l.str(key("hostedZoneId"))
	c.VpcCIDR = l.str(key("vpcCidr"))
	c.AZCount = l.integer(key("azCount"))
	c.NATGateways = l.str(key("natGateways"))
	c.InstanceSubnets = l.str(key("instanceSubnets"))
	c.InstanceType = l.str(key("instanceType"))
	c.RootVolumeGB = l.integer(key("rootVolumeGb"))
	c.KeepImages = l.integer(key("keepImages"))
	c.LogRetention = l.integer(key("logRetentionDays"))
	c.AlertEmail = l.str(key("alertEmail"))
	c.PermissionsBoundary = l.str(key("permissionsBoundary"))
	c.MonthlyBudget = l.number(key("monthlyBudgetUsd"))
	l.objects(c)
	for _, k := range required {
		if _, ok := raw[key(k)]; !ok {
			l.fail(key(k), "is required")
		}
	}
	if _, ok := raw[KeyRegion]; !ok {
		l.fail(KeyRegion, "is required (pulumi config set aws:region eu-central-1)")
	}
	c.applyDefaults(l.present)
	// Validate even after load errors, so a typo and a bad value are both reported at once;
	// only a key that already failed (missing, or not decodable) is not reported twice.
	errs := l.errs
	for _, e := range flatten(c.Validate()) {
		var ke *KeyError
		if !errors.As(e, &ke) || !l.failed(ke.Key) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// objects decodes the structured and boolean keys, in a fixed order.
func (l *loader) objects(c *Config) {
	for _, o := range []struct {
		k    string
		into any
	}{
		{"freeTier", &c.FreeTier}, {"s3Endpoint", &c.S3Endpoint}, {"detailedMonitoring", &c.DetailedMonitoring},
		{"fleet", &c.Fleet}, {"scaling", &c.Scaling}, {"image", &c.Image}, {"services", &c.Services}, {"jobs", &c.Jobs}, {"database", &c.Database}, {"cache", &c.Cache}, {"policyWaivers", &c.PolicyWaivers},
		{"requiredTags", &c.RequiredTags}, {"subjectAlternativeNames", &c.SubjectAlternativeNames},
		{"alb", &c.ALB}, {"alarms", &c.Alarms}, {"healing", &c.Healing}, {"protect", &c.Protect},
	} {
		l.object(key(o.k), o.into)
	}
}

// failed reports whether k, or the top-level key it belongs to, already has a load error.
func (l *loader) failed(k string) bool {
	for _, e := range l.errs {
		var ke *KeyError
		if errors.As(e, &ke) && topKey(ke.Key) == topKey(k) {
			return true
		}
	}
	return false
}

// flatten lists the errors inside err, looking through errors.Join.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// topKey strips nested parts: immutable-edge:services[1].port → immutable-edge:services.
func topKey(k string) string {
	if i := strings.IndexAny(k, ".["); i >= 0 {
		return k[:i]
	}
	return k
}

// loader decodes raw values and remembers which keys were set and what failed.
type loader struct {
	raw     map[string]string
	present map[string]bool
	errs    problems
}

func (l *loader) fail(k, format string, a ...any) { l.errs.add(k, format, a...) }

func (l *loader) get(k string) (string, bool) {
	v, ok := l.raw[k]
	if ok {
		if l.present == nil {
			l.present = map[string]bool{}
		}
		l.present[k] = true
	}
	return v, ok
}

func (l *loader) str(k string) string {
	v, _ := l.get(k)
	return strings.TrimSpace(v)
}

func (l *loader) integer(k string) int {
	v, ok := l.get(k)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		l.fail(k, "must be a whole number, got %q", v)
	}
	return n
}

func (l *loader) number(k string) float64 {
	v, ok := l.get(k)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !decimalRE.MatchString(strings.TrimSpace(v)) {
		l.fail(k, "must be a decimal number like 40 or 12.5, got %q", v)
		return 0
	}
	return f
}

func (l *loader) object(k string, into any) {
	if v, ok := l.get(k); ok {
		l.decodeJSON(k, v, into)
	}
}

// decodeJSON decodes a structured value strictly, naming the nested key of any mistake.
func (l *loader) decodeJSON(k, v string, into any) bool {
	badKey, reason, err := strictJSON(k, v, into)
	if badKey != "" {
		l.fail(badKey, "%s", reason)
		return false
	}
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		l.fail(k+"."+typeErr.Field, "must be %s, got %s", kindName(typeErr.Type), typeErr.Value)
	case errors.As(err, &typeErr):
		l.fail(k, "must be %s, got %s", kindName(typeErr.Type), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		l.fail(k+"."+field, "unknown key%s", didYouMean(field, jsonFields(into)))
	default:
		l.fail(k, "is not valid structured config: %v", err)
	}
	return false
}

// unknownKeys rejects keys of this namespace that the program does not read.
func (l *loader) unknownKeys() {
	var unknown []string
	for k := range l.raw {
		name, ok := strings.CutPrefix(k, Namespace+":")
		if ok && !slices.Contains(Keys, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		l.fail(key(name), "unknown key%s", didYouMean(name, Keys))
	}
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	default:
		return "an object"
	}
}

// jsonFields lists the json field names of the struct (or slice element struct) v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

// didYouMean suggests the nearest known name for a near miss.
func didYouMean(got string, known []string) string {
	best, bestDist := "", 3 // more than two edits away is not a typo
	for _, k := range known {
		g, kl := strings.ToLower(got), strings.ToLower(k)
		d := editDistance(g, kl)
		if len(g) >= 4 && (strings.HasPrefix(kl, g) || strings.HasPrefix(g, kl)) {
			d = min(d, 1) // a dropped or added suffix: monthlyBudget for monthlyBudgetUsd
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return " (known keys: " + strings.Join(known, ", ") + ")"
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// ErrorKeys lists the key of every *KeyError inside err, in order. It finds the joined error
// with errors.As first, because the Pulumi SDK wraps what a program returns.
func ErrorKeys(err error) []string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var keys []string
		for _, e := range joined.Unwrap() {
			keys = append(keys, ErrorKeys(e)...)
		}
		return keys
	}
	var ke *KeyError
	if errors.As(err, &ke) {
		return []string{ke.Key}
	}
	return nil
}
