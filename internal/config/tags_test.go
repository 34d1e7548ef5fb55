package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// defaultTags returns the aws:defaultTags value holding tags.
func defaultTags(tags map[string]string) map[string]any { return map[string]any{"tags": tags} }

var devTags = map[string]string{"Project": "immutable-edge", "Stack": "dev"}

// requiredTagsTests edit the dev stack; wantKeys nil means it loads.
var requiredTagsTests = []struct {
	name     string
	edit     func(plan.Config) plan.Config
	wantKeys []string
	wantText string
}{
	{"dev as committed", func(c plan.Config) plan.Config { return c }, nil, ""},
	{"only Project and Stack, nothing required", func(c plan.Config) plan.Config {
		return c.With("aws:defaultTags", defaultTags(devTags)).Without("requiredTags")
	}, nil, ""},
	{"no aws:defaultTags, nothing required", func(c plan.Config) plan.Config {
		return c.Without("aws:defaultTags").Without("requiredTags")
	}, nil, ""},
	{"Project and Stack come from the program", func(c plan.Config) plan.Config {
		return c.Without("aws:defaultTags").With("requiredTags", []string{"Project", "Stack"})
	}, nil, ""},
	{"a required tag aws:defaultTags lacks", func(c plan.Config) plan.Config {
		return c.With("aws:defaultTags", defaultTags(devTags)).With("requiredTags", []string{"Owner"})
	}, []string{"aws:defaultTags"}, "aws:defaultTags: lacks tag Owner, which immutable-edge:requiredTags requires on every taggable resource"},
	{"no aws:defaultTags, two tags required", func(c plan.Config) plan.Config { return c.Without("aws:defaultTags") },
		[]string{"aws:defaultTags"}, "aws:defaultTags: lacks tags Owner, CostCenter, which immutable-edge:requiredTags requires"},
	{"an empty value is no tag", func(c plan.Config) plan.Config {
		return c.With("aws:defaultTags", defaultTags(map[string]string{"Owner": "", "CostCenter": "web-dev"}))
	}, []string{"aws:defaultTags"}, "lacks tag Owner,"},
	{"128 characters", func(c plan.Config) plan.Config {
		k := strings.Repeat("é", 128) // characters, not bytes
		return c.With("aws:defaultTags", defaultTags(map[string]string{k: "x"})).With("requiredTags", []string{k})
	}, nil, ""},
	{"129 characters", func(c plan.Config) plan.Config {
		return c.With("requiredTags", []string{"Owner", strings.Repeat("a", 129)})
	}, []string{"immutable-edge:requiredTags[1]"}, "is not a tag key: 1-128 characters"},
	{"empty key", func(c plan.Config) plan.Config { return c.With("requiredTags", []string{""}) },
		[]string{"immutable-edge:requiredTags[0]"}, `"" is not a tag key`},
	{"reserved aws: prefix in any case", func(c plan.Config) plan.Config {
		return c.With("requiredTags", []string{"AWS:CreatedBy"})
	}, []string{"immutable-edge:requiredTags[0]"}, "not starting with aws:"},
	{"listed twice", func(c plan.Config) plan.Config {
		return c.With("requiredTags", []string{"Owner", "CostCenter", "Owner"})
	}, []string{"immutable-edge:requiredTags[2]"}, "Owner is listed twice"},
	{"Name belongs to each resource", func(c plan.Config) plan.Config { return c.With("requiredTags", []string{"Name"}) },
		[]string{"immutable-edge:requiredTags[0]"}, "Name is set per resource by the program"},
	{"not a list", func(c plan.Config) plan.Config { return c.With("requiredTags", map[string]string{"Owner": "x"}) },
		[]string{"immutable-edge:requiredTags"}, "must be a list"},
	{"a number in the list", func(c plan.Config) plan.Config { return c.With("requiredTags", []any{1}) },
		[]string{"immutable-edge:requiredTags"}, "must be a string"},
	{"every problem at once", func(c plan.Config) plan.Config {
		return c.With("requiredTags", []string{"aws:x", "Team"})
	}, []string{"immutable-edge:requiredTags[0]", "aws:defaultTags"}, "lacks tag Team,"},
}

func TestRequiredTags(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	for _, tc := range requiredTagsTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load("immutable-edge", "dev", tc.edit(base))
			require.Equal(t, tc.wantKeys, config.ErrorKeys(err), "error: %v", err)
			if tc.wantText != "" {
				require.ErrorContains(t, err, tc.wantText)
			}
		})
	}
}

func TestRequiredTagKeysStartWithProjectAndStack(t *testing.T) {
	for _, tc := range []struct {
		required, want []string
	}{
		{nil, []string{"Project", "Stack"}},
		{[]string{"Owner", "CostCenter"}, []string{"Project", "Stack", "Owner", "CostCenter"}},
		{[]string{"Stack", "Team", "Project"}, []string{"Project", "Stack", "Team"}},
	} {
		c := &config.Config{Project: "immutable-edge", Stack: "dev", RequiredTags: tc.required}
		require.Equal(t, tc.want, c.RequiredTagKeys(), "requiredTags %v", tc.required)
	}
}
