package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The boot figures' block is what the boot tests measured, and a figure they no longer write is
// an error naming it, not a blank row.
func TestBootFiguresNeedEveryMeasurement(t *testing.T) {
	committed, err := os.ReadFile("../../images/local/figures.json")
	require.NoError(t, err)
	var f map[string]float64
	require.NoError(t, json.Unmarshal(committed, &f))
	write := func(f map[string]float64) string {
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "images", "local"), 0o755))
		b, err := json.Marshal(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "images", "local", "figures.json"), b, 0o600))
		return root
	}
	out, err := bootFigures(write(f))
	require.NoError(t, err)
	require.Contains(t, out, "| dev boot.sh step: health gate (HAProxy's checks settled) |")

	delete(f, "switch.failed")
	_, err = bootFigures(write(f))
	require.ErrorContains(t, err, "lacks switch.failed")
	_, err = bootFigures(t.TempDir())
	require.ErrorContains(t, err, "make boot-figures")
}
