package main

import "testing"

// BenchmarkSynth is one full offline synth of a stack: plan under mocks, policy, cost, JSON.
// Goal: well under a second per stack (docs/measurements.md).
func BenchmarkSynth(b *testing.B) {
	for _, stack := range []string{"dev", "prod"} {
		b.Run(stack, func(b *testing.B) {
			for b.Loop() {
				s, err := synthesize(stack, "")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := JSON(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
