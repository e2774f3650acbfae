package scenario

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunFile(t *testing.T) {
	t.Parallel()
	ok := RunFile(filepath.Join("..", "..", "testdata", "scenarios", "01-seed-v2-anyone-yaml.yaml"))
	assert.True(t, ok.Passed, "%v", ok.Failures)
	assert.Empty(t, ok.Failures)
	assert.NotEmpty(t, ok.Name)

	missing := RunFile(filepath.Join(t.TempDir(), "nope.yaml"))
	assert.False(t, missing.Passed)
	require.Len(t, missing.Failures, 1)
	assert.Contains(t, missing.Failures[0], "malformed")
	assert.Equal(t, "nope.yaml", missing.Name)
}
