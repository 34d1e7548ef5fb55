package plandiff

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnified(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh"
	b := "a\nb\nc\nD\ne\nf\ng\nh\ni"
	require.Equal(t, "@@ 1 unchanged lines @@\n  b\n  c\n- d\n+ D\n  e\n  f\n  g\n  h\n+ i\n", unified(a, b, 2))
	require.Equal(t, "@@ 8 unchanged lines @@\n", unified(a, a, 2))
}
