package main

// argo-lint pod-security < pods.json
//
// Checks pod specs against the Kubernetes Pod Security Standards with the code the PodSecurity admission controller
// runs (k8s.io/pod-security-admission/policy, DefaultChecks, at the latest policy version). Standard input: a JSON
// array of PodSpecs. Standard output: a JSON array, one verdict per pod:
//
//	{"baseline": {"allowed": true, "failures": []},
//	 "restricted": {"allowed": false, "failures": [{"check": "runAsNonRoot", "reason": "...", "detail": "..."}]}}
//
// Each failure names the check (policy.CheckID), so that a checker of its own can be compared check by check. The
// verdicts are also compared with the admission's own aggregate evaluator, and an error is raised if they differ.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	apiv1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type checkFailure struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type levelVerdict struct {
	Allowed  bool           `json:"allowed"`
	Failures []checkFailure `json:"failures"`
}

type securityVerdict struct {
	Baseline   levelVerdict `json:"baseline"`
	Restricted levelVerdict `json:"restricted"`
	// Error: the per-check verdict and the admission's own evaluator disagree (a bug in this tool).
	Error string `json:"error,omitempty"`
}

var evaluator policy.Evaluator

func init() {
	var err error
	evaluator, err = policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		panic(err)
	}
}

// levelChecks: the checks a level runs at the latest version, as the admission's registry assembles them (a
// restricted check that overrides a baseline check replaces it).
func levelChecks(level psaapi.Level) map[policy.CheckID]policy.VersionedCheck {
	checks := map[policy.CheckID]policy.VersionedCheck{}
	overridden := map[policy.CheckID]bool{}
	for _, c := range policy.DefaultChecks() {
		if c.Level == psaapi.LevelRestricted && level != psaapi.LevelRestricted {
			continue
		}
		latest := c.Versions[len(c.Versions)-1]
		checks[c.ID] = latest
		if c.Level == psaapi.LevelRestricted {
			for _, id := range latest.OverrideCheckIDs {
				overridden[id] = true
			}
		}
	}
	for id := range overridden {
		delete(checks, id)
	}
	return checks
}

func evaluateLevel(level psaapi.Level, meta *metav1.ObjectMeta, spec *apiv1.PodSpec) (levelVerdict, error) {
	v := levelVerdict{Allowed: true, Failures: []checkFailure{}}
	for id, check := range levelChecks(level) {
		r := check.CheckPod(meta, spec)
		if !r.Allowed {
			v.Allowed = false
			v.Failures = append(v.Failures, checkFailure{Check: string(id), Reason: r.ForbiddenReason, Detail: r.ForbiddenDetail})
		}
	}
	sortFailures(v.Failures)
	official := policy.AggregateCheckResults(evaluator.EvaluatePod(psaapi.LevelVersion{Level: level, Version: psaapi.LatestVersion()}, meta, spec))
	if official.Allowed != v.Allowed || len(official.ForbiddenReasons) != len(v.Failures) {
		return v, fmt.Errorf("%s: the admission's evaluator says allowed=%v (%s), the per-check run %d failures", level, official.Allowed, official.ForbiddenDetail(), len(v.Failures))
	}
	return v, nil
}

func sortFailures(f []checkFailure) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Check < f[j-1].Check; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

func evaluate(spec *apiv1.PodSpec) securityVerdict {
	meta := &metav1.ObjectMeta{Name: "pod"}
	var out securityVerdict
	var err1, err2 error
	out.Baseline, err1 = evaluateLevel(psaapi.LevelBaseline, meta, spec)
	out.Restricted, err2 = evaluateLevel(psaapi.LevelRestricted, meta, spec)
	for _, err := range []error{err1, err2} {
		if err != nil {
			out.Error += err.Error() + "; "
		}
	}
	return out
}

func runPodSecurity(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: argo-lint pod-security < pods.json   (a JSON array of PodSpecs)")
		return 2
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return report("pod-security", usageError{err})
	}
	var specs []apiv1.PodSpec
	if err := strictJSON(data, &specs); err != nil {
		return report("pod-security", usageError{fmt.Errorf("standard input is not a JSON array of PodSpecs: %w", err)})
	}
	out := make([]securityVerdict, len(specs))
	for i := range specs {
		out[i] = evaluate(&specs[i])
	}
	return printJSON(out)
}

// strictJSON decodes refusing unknown fields, so that a misspelt field in a test's pod is an error, not a pass.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
