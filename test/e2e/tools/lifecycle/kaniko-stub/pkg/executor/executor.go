// Package executor: see ../../go.mod.
package executor

import (
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/osscontainertools/kaniko/pkg/config"
)

// DoBuild always fails: image extensions are not available in this lifecycle build.
func DoBuild(_ *config.KanikoOptions) (v1.Image, error) {
	return nil, errors.New("image extensions are not supported by this lifecycle build (kaniko stub, packline e2e)")
}
