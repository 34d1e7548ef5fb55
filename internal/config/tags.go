package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxTags is AWS's limit of user tags on one resource.
const MaxTags = 50

// validateTags checks aws:defaultTags and requiredTags, and that the first holds every key the
// second asks for: a stack without a required tag gets one error naming aws:defaultTags here,
// not one policy failure per resource after the plan.
func (c *Config) validateTags() error {
	var errs problems
	if n := len(c.Tags()); n > MaxTags-1 {
		// EC2 and most services allow 50 user tags per resource (CreateTags:
		// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html); each
		// resource also gets its Name from the program.
		errs.add(KeyDefaultTags, "holds %d tags with Project and Stack; with each resource's Name that passes AWS's %d tags per resource", n, MaxTags)
		return errors.Join(errs...) // one error, not one per key of a pathological map
	}
	for _, k := range slices.Sorted(maps.Keys(c.DefaultTags)) {
		if !validTagKey(k) || utf8.RuneCountInString(c.DefaultTags[k]) > 256 {
			errs.add(KeyDefaultTags, "tag %q: keys are 1-128 characters not starting with aws:, values at most 256", k)
		}
	}
	for _, t := range []struct{ k, want string }{{TagProject, c.Project}, {TagStack, c.Stack}} {
		if v, ok := c.DefaultTags[t.k]; ok && v != t.want {
			errs.add(KeyDefaultTags, "tag %s is %q but this is %s %q; the program scopes permissions by it", t.k, v, strings.ToLower(t.k), t.want)
		}
	}
	seen := map[string]bool{}
	for i, k := range c.RequiredTags {
		ik := fmt.Sprintf("%s[%d]", key("requiredTags"), i)
		if why := requirableProblem(k); why != "" {
			errs.add(ik, "%s", why)
		} else if seen[k] {
			errs.add(ik, "%s is listed twice", k)
		}
		seen[k] = true
	}
	if missing := c.missingTags(); len(missing) > 0 {
		errs.add(KeyDefaultTags, "lacks %s %s, which %s requires on every taggable resource",
			plural(len(missing), "tag", "tags"), strings.Join(missing, ", "), key("requiredTags"))
	}
	return errors.Join(errs...)
}

// missingTags lists, in config order, the requirable requiredTags keys that Tags leaves empty.
// Project and Stack are never among them: Tags sets both, and a default tag that overrides
// either with another value is already reported as a mismatch.
func (c *Config) missingTags() []string {
	tags := c.Tags()
	var missing []string
	for _, k := range c.RequiredTagKeys() {
		if k != TagProject && k != TagStack && requirableProblem(k) == "" && tags[k] == "" {
			missing = append(missing, k)
		}
	}
	return missing
}

// requirableProblem says why k cannot be a required tag key, or "" when it can. Name is not one:
// every resource gets its own from the program, which a default tag would overwrite.
func requirableProblem(k string) string {
	switch {
	case !validTagKey(k):
		return fmt.Sprintf("%q is not a tag key: 1-128 characters, not starting with aws:", k)
	case k == "Name":
		return "Name is set per resource by the program, so aws:defaultTags cannot supply it"
	}
	return ""
}

// validTagKey applies AWS's length and prefix rules for tag keys (aws: is reserved in any case).
func validTagKey(k string) bool {
	n := utf8.RuneCountInString(k)
	return n >= 1 && n <= 128 && !strings.HasPrefix(strings.ToLower(k), "aws:")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
