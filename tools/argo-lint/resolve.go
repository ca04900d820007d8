package main

// argo-lint resolve FILE TEMPLATE [KEY=VALUE...]
//
// Shows what Argo's controller makes of one template of a Workflow or WorkflowTemplate: it runs the controller's own
// substitution code (workflow/common SubstituteParams, what the controller runs before it makes a template's pod)
// with the workflow's parameters as globals. KEY=VALUE pairs add or override variables, e.g. workflow.uid=...,
// workflow.parameters.tag=v1.2.3, inputs.parameters.version=1.2.3 (input parameters are set on the template before
// substitution, as the controller does with a step's arguments). Prints the substituted template as JSON. Exit 1 when
// Argo refuses it (e.g. an input parameter with no value).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
)

// usageError is a bad command line or an unreadable file (exit 2), as opposed to Argo refusing the input (exit 1).
type usageError struct{ error }

// readSpec reads a file holding exactly one Workflow or WorkflowTemplate, decoded strictly by Argo's parser.
func readSpec(ctx context.Context, file string) (*wfv1.WorkflowSpec, error) {
	_, data, err := readInput(file)
	if err != nil {
		return nil, usageError{err}
	}
	results := common.ParseObjects(ctx, data, true)
	if len(results) != 1 || results[0].Object == nil {
		return nil, usageError{fmt.Errorf("%s must hold exactly one Workflow or WorkflowTemplate", file)}
	}
	if results[0].Err != nil {
		return nil, results[0].Err
	}
	switch obj := results[0].Object.(type) {
	case *wfv1.Workflow:
		return &obj.Spec, nil
	case *wfv1.WorkflowTemplate:
		return &obj.Spec, nil
	default:
		return nil, usageError{fmt.Errorf("%T is not a Workflow or WorkflowTemplate", obj)}
	}
}

// variables splits KEY=VALUE pairs into globals (workflow.uid=...) and input parameters (inputs.parameters.x=...).
// The workflow's own parameters with a value are globals too (workflow.parameters.<name>), as the controller sets them.
func variables(spec *wfv1.WorkflowSpec, pairs []string) (common.Parameters, map[string]string, error) {
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
			return nil, nil, usageError{fmt.Errorf("%q is not KEY=VALUE", pair)}
		}
		if name, isInput := strings.CutPrefix(key, "inputs.parameters."); isInput {
			inputs[name] = value
		} else {
			globals[key] = value
		}
	}
	return globals, inputs, nil
}

// substitute runs the controller's substitution over a copy of tmpl, its input parameters set from inputs first.
func substitute(ctx context.Context, tmpl *wfv1.Template, globals common.Parameters, inputs map[string]string) (*wfv1.Template, error) {
	t := tmpl.DeepCopy()
	for i := range t.Inputs.Parameters {
		if value, ok := inputs[t.Inputs.Parameters[i].Name]; ok {
			t.Inputs.Parameters[i].Value = wfv1.AnyStringPtr(value)
		}
	}
	return common.SubstituteParams(ctx, t, globals, common.Parameters{})
}

func findTemplate(spec *wfv1.WorkflowSpec, name string) *wfv1.Template {
	for i := range spec.Templates {
		if spec.Templates[i].Name == name {
			return &spec.Templates[i]
		}
	}
	return nil
}

func runResolve(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: argo-lint resolve FILE TEMPLATE [KEY=VALUE...]")
		return 2
	}
	ctx := quietContext()
	spec, err := readSpec(ctx, args[0])
	if err != nil {
		return report("resolve", err)
	}
	globals, inputs, err := variables(spec, args[2:])
	if err != nil {
		return report("resolve", err)
	}
	tmpl := findTemplate(spec, args[1])
	if tmpl == nil {
		return report("resolve", usageError{fmt.Errorf("no template %q", args[1])})
	}
	resolved, err := substitute(ctx, tmpl, globals, inputs)
	if err != nil {
		return report("resolve", err)
	}
	return printJSON(resolved)
}

// report prints an error and returns its exit status: 2 for usage errors, 1 when Argo refused the input.
func report(command string, err error) int {
	fmt.Fprintf(os.Stderr, "argo-lint %s: %v\n", command, err)
	if _, ok := err.(usageError); ok {
		return 2
	}
	return 1
}

func printJSON(value any) int {
	out, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "argo-lint: %v\n", err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}
