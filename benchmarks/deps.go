package benchmarks

import (
	_ "cel.dev/cel-go/cel"
	_ "github.com/dlclark/regexp2"
	_ "github.com/leanovate/gopter"
	_ "github.com/stretchr/testify/require"
	_ "sigs.k8s.io/yaml"
)
