// Package image: see ../../go.mod.
package image

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/osscontainertools/kaniko/pkg/config"
)

// RetrieveRemoteImage is overridden by the lifecycle before a build.
var RetrieveRemoteImage func(image string, opts config.RegistryOptions, customPlatform string) (v1.Image, error)
