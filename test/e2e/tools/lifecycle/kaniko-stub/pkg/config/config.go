// Package config is the part of kaniko's config API the lifecycle compiles against (see ../../go.mod).
package config

import "time"

// KanikoDir is where kaniko keeps its state.
var KanikoDir = "/kaniko"

// CacheOptions are the cache settings of a build.
type CacheOptions struct {
	CacheTTL time.Duration
}

// RegistryOptions are the registry settings of a build.
type RegistryOptions struct{}

// KanikoOptions are the options of one Dockerfile build.
type KanikoOptions struct {
	CacheOptions
	BuildArgs         []string
	Cache             bool
	CacheRunLayers    bool
	CacheCopyLayers   bool
	CacheRepo         string
	Cleanup           bool
	CustomPlatform    string
	DockerfilePath    string
	IgnorePaths       []string
	IgnoreVarRun      bool
	InitialFSUnpacked bool
	NoPush            bool
	Reproducible      bool
	SnapshotMode      string
	SrcContext        string
}
