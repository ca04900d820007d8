//go:build tools

// Package crane pins crane, which pushes and pulls the lab's images (built by test/lab/build/tools.sh).
package crane

import _ "github.com/google/go-containerregistry/cmd/crane"
