// Package proc: see ../../../go.mod.
package proc

// ContainerRuntime names the container runtime kaniko detects.
type ContainerRuntime string

// RuntimeNotFound means no container runtime was detected.
const RuntimeNotFound ContainerRuntime = "not-found"

// GetContainerRuntime reports no runtime, so the lifecycle's extender refuses to run.
func GetContainerRuntime(_ int, _ int) ContainerRuntime { return RuntimeNotFound }
