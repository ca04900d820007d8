package main

// argo-lint resolve FILE TEMPLATE [KEY=VALUE...]
//
// Shows what Argo's controller makes of one template of a Workflow or WorkflowTemplate: it runs the controller's own
// substitution code (workflow/common SubstituteParams, the code behind ProcessArgs) with the workflow's parameters as
// globals. KEY=VALUE pairs add or override variables, e.g. workflow.uid=..., workflow.parameters.tag=v1.2.3,
// inputs.parameters.version=1.2.3 (input parameters are set on the template before substitution, as the controller
// does with a step's arguments). Prints the substituted template as JSON. Exit 1 when Argo refuses it.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

func runResolve(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: argo-lint resolve FILE TEMPLATE [KEY=VALUE...]")
		return 2
	}
	file, templateName, pairs := args[0], args[1], args[2:]
	logger := logging.NewSlogLoggerCustom(logging.Error, logging.Text, os.Stderr)
	ctx := logging.WithLogger(context.Background(), logger)

	_, data, err := readInput(file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "argo-lint resolve: %v\n", err)
		return 2
	}
	results := common.ParseObjects(ctx, data, true)
	if len(results) != 1 || results[0].Object == nil {
		fmt.Fprintf(os.Stderr, "argo-lint resolve: %s must hold exactly one Workflow or WorkflowTemplate\n", file)
		return 2
	}
	var spec *wfv1.WorkflowSpec
	switch obj := results[0].Object.(type) {
	case *wfv1.Workflow:
		spec = &obj.Spec
	case *wfv1.WorkflowTemplate:
		spec = &obj.Spec
	default:
		fmt.Fprintf(os.Stderr, "argo-lint resolve: %T is not a Workflow or WorkflowTemplate\n", obj)
		return 2
	}

	globals := common.Parameters{}
	for _, p := range spec.Arguments.Parameters {
		if p.Value != nil {
			globals["workflow.parameters."+p.Name] = p.Value.String()
		}
	}
	inputs := map[string]string{}
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "argo-lint resolve: %q is not KEY=VALUE\n", pair)
			return 2
		}
		if name, isInput := strings.CutPrefix(key, "inputs.parameters."); isInput {
			inputs[name] = value
		} else {
			globals[key] = value
		}
	}

	var tmpl *wfv1.Template
	for i := range spec.Templates {
		if spec.Templates[i].Name == templateName {
			tmpl = spec.Templates[i].DeepCopy()
		}
	}
	if tmpl == nil {
		fmt.Fprintf(os.Stderr, "argo-lint resolve: no template %q\n", templateName)
		return 2
	}
	for i := range tmpl.Inputs.Parameters {
		if value, ok := inputs[tmpl.Inputs.Parameters[i].Name]; ok {
			tmpl.Inputs.Parameters[i].Value = wfv1.AnyStringPtr(value)
		}
	}
	resolved, err := common.SubstituteParams(ctx, tmpl, globals, common.Parameters{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "argo-lint resolve: %v\n", err)
		return 1
	}
	out, err := json.MarshalIndent(resolved, "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "argo-lint resolve: %v\n", err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}
