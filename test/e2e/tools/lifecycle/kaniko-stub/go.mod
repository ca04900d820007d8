// A stand-in for github.com/osscontainertools/kaniko, which the Go module proxy reachable here refuses to serve.
// The lifecycle imports it only for the `extender` phase (image extensions applying Dockerfiles), which the e2e tests
// never run (the `creator` does not support extensions). Every entry point fails with a clear error.
module github.com/osscontainertools/kaniko

go 1.24

require github.com/google/go-containerregistry v0.20.7
