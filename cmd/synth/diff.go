package main

import (
	"encoding/json"

	"github.com/immutable-edge/immutable-edge/internal/plandiff"
)

// diffAgainst compares the current plan with a saved JSON plan.
func diffAgainst(s *Synth, oldPath string) ([]byte, error) {
	old, err := plandiff.Read(oldPath)
	if err != nil {
		return nil, err
	}
	// Round-trip the current plan through JSON so both sides have the same value types.
	var cur plandiff.Document
	b, err := json.Marshal(newDocument(s))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &cur); err != nil {
		return nil, err
	}
	return []byte(plandiff.Text(old, cur)), nil
}
