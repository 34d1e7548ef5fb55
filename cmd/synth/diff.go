package main

import (
	"encoding/json"
	"fmt"

	"github.com/immutable-edge/immutable-edge/internal/plandiff"
)

// diffAgainst compares the current plan with a saved JSON plan.
func diffAgainst(s *Synth, oldPath string) ([]byte, error) {
	old, err := plandiff.Read(oldPath)
	if err != nil {
		return nil, err
	}
	cur, err := document(s)
	if err != nil {
		return nil, err
	}
	return []byte(plandiff.Text(old, cur)), nil
}

// document is the current plan's document as a saved one reads back: the JSON round trip gives
// both sides of a diff the same value types.
func document(s *Synth) (plandiff.Document, error) {
	var d plandiff.Document
	b, err := json.Marshal(newDocument(s))
	if err != nil {
		return d, fmt.Errorf("synth document: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("synth document: %w", err)
	}
	return d, nil
}
