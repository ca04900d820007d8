package main

// argo-lint pods FILE [KEY=VALUE...]
//
// Prints, for every container template of a Workflow or WorkflowTemplate, the pod spec Argo's controller would make
// for it, as far as Pod Security is concerned, and the Pod Security Standards verdict on that pod (see
// podsecurity.go). KEY=VALUE pairs are as for `resolve`; an inputs.parameters.<name> value goes to every template
// that declares that input.
//
// The pod is put together as workflow/controller/workflowpod.go (createWorkflowPod) of Argo v4.0.5 does it:
//   - the template's variables substituted first (common.SubstituteParams, as executeTemplate does);
//   - spec.securityContext: the template's securityContext, else the workflow's;
//   - initContainers: Argo's own "init" (argoexec), then the template's initContainers;
//   - containers: Argo's own "wait" (argoexec), then the template's container named "main", then its sidecars;
//   - Argo's "init" and "wait" get the controller's executor securityContext, which a default install leaves
//     empty (the configmap's `executor.securityContext`; nothing a workflow can set), so here they get none;
//   - volumes: Argo's var-run-argo and tmp-dir-argo (emptyDirs), then the template's volumes;
//   - hostNetwork from the workflow spec;
//   - finally the workflow's then the template's podSpecPatch, applied with Argo's own
//     workflow/util.ApplyPodSpecPatch (a strategic merge patch of the PodSpec: containers merge by name), copied
//     below because importing workflow/util would build Argo's server and database code too.
// What the controller adds besides (env, volume mounts, the emissary command wrapper, labels) changes no Pod
// Security check and is left out.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	apiv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

// The argoexec image of the release this tool is built from (what a default install of v4.0.5 runs).
const executorImage = "quay.io/argoproj/argoexec:v4.0.5"

type templatePod struct {
	Template string          `json:"template"`
	Pod      apiv1.PodSpec   `json:"pod"`
	Security securityVerdict `json:"podSecurity"`
}

func runPods(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: argo-lint pods FILE [KEY=VALUE...]")
		return 2
	}
	ctx := quietContext()
	spec, err := readSpec(ctx, args[0])
	if err != nil {
		return report("pods", err)
	}
	globals, inputs, err := variables(spec, args[1:])
	if err != nil {
		return report("pods", err)
	}
	var out []templatePod
	for i := range spec.Templates {
		tmpl := &spec.Templates[i]
		if tmpl.Container == nil && tmpl.Script == nil {
			continue
		}
		pod, err := argoPod(ctx, spec, tmpl, globals, inputs)
		if err != nil {
			return report("pods", fmt.Errorf("template %s: %w", tmpl.Name, err))
		}
		out = append(out, templatePod{Template: tmpl.Name, Pod: *pod, Security: evaluate(pod)})
	}
	return printJSON(out)
}

func argoPod(ctx context.Context, wf *wfv1.WorkflowSpec, tmpl *wfv1.Template, globals common.Parameters, inputs map[string]string) (*apiv1.PodSpec, error) {
	t, err := substitute(ctx, tmpl, globals, inputs)
	if err != nil {
		return nil, err
	}
	var main apiv1.Container
	if t.Container != nil {
		main = *t.Container.DeepCopy()
	} else {
		main = *t.Script.Container.DeepCopy()
	}
	main.Name = common.MainContainerName
	executor := func(name string) apiv1.Container {
		return apiv1.Container{Name: name, Image: executorImage, Command: []string{"argoexec", name}}
	}
	pod := apiv1.PodSpec{
		RestartPolicy: apiv1.RestartPolicyNever,
		Volumes: append([]apiv1.Volume{
			{Name: "var-run-argo", VolumeSource: apiv1.VolumeSource{EmptyDir: &apiv1.EmptyDirVolumeSource{}}},
			{Name: "tmp-dir-argo", VolumeSource: apiv1.VolumeSource{EmptyDir: &apiv1.EmptyDirVolumeSource{}}},
		}, t.Volumes...),
		InitContainers: []apiv1.Container{executor(common.InitContainerName)},
		Containers:     []apiv1.Container{executor(common.WaitContainerName), main},
	}
	if t.SecurityContext != nil {
		pod.SecurityContext = t.SecurityContext.DeepCopy()
	} else if wf.SecurityContext != nil {
		pod.SecurityContext = wf.SecurityContext.DeepCopy()
	}
	if wf.HostNetwork != nil {
		pod.HostNetwork = *wf.HostNetwork
	}
	for _, c := range t.InitContainers {
		pod.InitContainers = append(pod.InitContainers, c.Container)
	}
	for _, c := range t.Sidecars {
		pod.Containers = append(pod.Containers, c.Container)
	}
	var patches []string
	if wf.HasPodSpecPatch() {
		// The controller substitutes the workflow's patch in the template's scope; here it has no variables.
		patches = append(patches, wf.PodSpecPatch)
	}
	if t.HasPodSpecPatch() {
		patches = append(patches, t.PodSpecPatch)
	}
	if len(patches) == 0 {
		return &pod, nil
	}
	return applyPodSpecPatch(pod, patches...)
}

// applyPodSpecPatch is workflow/util/util.go's ApplyPodSpecPatch (with ConvertYAMLToJSON and IsJSONStr) of Argo
// Workflows v4.0.5 (Apache-2.0, Copyright The Argo Authors); its error wrapping is simplified, its logic unchanged.
func applyPodSpecPatch(podSpec apiv1.PodSpec, podSpecPatchYamls ...string) (*apiv1.PodSpec, error) {
	podSpecJSON, err := json.Marshal(podSpec)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal the Pod spec: %w", err)
	}
	for _, podSpecPatchYaml := range podSpecPatchYamls {
		// must convert to json because PodSpec has only json tags
		podSpecPatchJSON, err := convertYAMLToJSON(podSpecPatchYaml)
		if err != nil {
			return nil, fmt.Errorf("failed to convert the PodSpecPatch yaml to json: %w", err)
		}
		// validate the patch to be a PodSpec
		if err := json.Unmarshal([]byte(podSpecPatchJSON), &apiv1.PodSpec{}); err != nil {
			return nil, fmt.Errorf("invalid podSpecPatch %q: %w", podSpecPatchYaml, err)
		}
		podSpecJSON, err = strategicpatch.StrategicMergePatch(podSpecJSON, []byte(podSpecPatchJSON), apiv1.PodSpec{})
		if err != nil {
			return nil, fmt.Errorf("error occurred during strategic merge patch: %w", err)
		}
	}
	var newPodSpec apiv1.PodSpec
	if err := json.Unmarshal(podSpecJSON, &newPodSpec); err != nil {
		return nil, fmt.Errorf("error in unmarshalling after merge the patch: %w", err)
	}
	return &newPodSpec, nil
}

func convertYAMLToJSON(str string) (string, error) {
	if trimmed := strings.TrimSpace(str); len(trimmed) > 0 && trimmed[0] == '{' {
		return str, nil
	}
	jsonStr, err := yaml.YAMLToJSON([]byte(str))
	if err != nil {
		return str, err
	}
	return string(jsonStr), nil
}
