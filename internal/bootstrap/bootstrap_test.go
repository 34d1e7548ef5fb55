package bootstrap_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func TestUserDataCarriesTheStackDescription(t *testing.T) {
	for _, s := range []string{"dev", "prod"} {
		raw, err := plan.StackConfig(s)
		require.NoError(t, err)
		cfg, err := config.Load("immutable-edge", s, raw)
		require.NoError(t, err)
		ud, err := bootstrap.UserData(bootstrap.Describe(cfg))
		require.NoError(t, err)
		again, err := bootstrap.UserData(bootstrap.Describe(cfg))
		require.NoError(t, err)
		require.Equal(t, ud, again, "deterministic")

		var doc struct {
			WriteFiles []struct {
				Path, Owner, Permissions, Content string
			} `yaml:"write_files"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(ud), &doc), ud)
		require.Len(t, doc.WriteFiles, 1)
		require.Equal(t, bootstrap.StackFile, doc.WriteFiles[0].Path)
		var stack bootstrap.Stack
		require.NoError(t, json.Unmarshal([]byte(doc.WriteFiles[0].Content), &stack))
		require.Equal(t, bootstrap.Describe(cfg), stack, "%s: the instance reads back what was rendered", s)
		require.Equal(t, cfg.Edge, stack.Edge.Mode)
		require.Equal(t, config.EdgeHealthPath, stack.Edge.HealthPath)
		require.Len(t, stack.Services, 2)
	}
}
