// Command argo-lint checks Argo Workflows manifests with Argo's own code (Argo Workflows v4.0.5, from the Go module
// proxy): the strict decoding and the validation that `argo lint --offline --strict` runs, and a few more things
// packline's tests need from Argo's controller. See README.md.
//
//	argo-lint FILE...                               lint ("-" reads standard input)
//	argo-lint resolve FILE TEMPLATE [KEY=VALUE...]  a template after the controller's substitution (resolve.go)
//	argo-lint pods FILE [KEY=VALUE...]              the pod of every container template, with its Pod Security verdict (pod.go)
//	argo-lint pod-security < pods.json              Pod Security Standards verdicts on PodSpecs (podsecurity.go)
//	argo-lint eval < requests.json                  expressions evaluated as the controller does (eval.go)
//
// Lint: every YAML document of every file is decoded strictly (unknown or duplicate fields are errors) by
// github.com/argoproj/argo-workflows/v4/workflow/common ParseObjects, then validated by workflow/validate
// (ValidateWorkflow, ValidateWorkflowTemplate, ValidateClusterWorkflowTemplate, ValidateCronWorkflow) with
// ValidateOpts{Lint: true}. WorkflowTemplates and ClusterWorkflowTemplates found in any of the given files can be
// referenced (workflowTemplateRef, templateRef) by the others. Argo's validation does not look inside expressions;
// this tool also parses each one with the expr-lang parser Argo evaluates them with (checkExpressionSyntax).
//
// Output, one line per document, on standard output:
//
//	OK <file> <Kind>/<name>
//	SKIP <file> document <n>: <apiVersion> <Kind> is not an Argo Workflows kind
//	ERROR <file> document <n> <Kind>/<name>: <message>
//
// Exit status: 0 when every document passed, 1 when any failed or no Argo
// object was found, 2 on a usage error or an unreadable file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/parser"
	"github.com/valyala/fasttemplate"
	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	jsonutil "github.com/argoproj/argo-workflows/v4/util/json"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"
)

// documentSeparator is the rule Argo's own parser (workflow/common.ParseObjects)
// splits a file by, so document numbers agree with what argo lint reads.
var documentSeparator = regexp.MustCompile(`\n---`)

type document struct {
	file  string
	index int // 1-based, counting non-empty documents
	kind  string
	name  string
	obj   any
	err   error // decode error (YAML syntax, unknown or duplicate field)
	skip  string
}

func (d *document) label() string {
	if d.kind != "" || d.name != "" {
		return fmt.Sprintf("%s document %d %s/%s", d.file, d.index, d.kind, d.name)
	}
	return fmt.Sprintf("%s document %d", d.file, d.index)
}

type templateStore struct {
	byNamespace map[string]map[string]*wfv1.WorkflowTemplate
	cluster     map[string]*wfv1.ClusterWorkflowTemplate
}

type namespacedGetter struct {
	store     *templateStore
	namespace string
}

func (g namespacedGetter) Get(_ context.Context, name string) (*wfv1.WorkflowTemplate, error) {
	if t, ok := g.store.byNamespace[g.namespace][name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("couldn't find workflow template %q in namespace %q (only WorkflowTemplates in the linted files are known)", name, g.namespace)
}

type clusterGetter struct{ store *templateStore }

func (g clusterGetter) Get(_ context.Context, name string) (*wfv1.ClusterWorkflowTemplate, error) {
	if t, ok := g.store.cluster[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("couldn't find cluster workflow template %q (only ClusterWorkflowTemplates in the linted files are known)", name)
}

func objectName(name, generateName string) string {
	if name != "" {
		return name
	}
	return generateName
}

// parseDocument decodes one document strictly, with Argo's own parser.
func parseDocument(ctx context.Context, file string, index int, text string) *document {
	d := &document{file: file, index: index}

	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name         string `json:"name"`
			GenerateName string `json:"generateName"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(text), &head); err != nil {
		d.err = fmt.Errorf("not valid YAML: %w", err)
		return d
	}
	d.kind = head.Kind
	d.name = objectName(head.Metadata.Name, head.Metadata.GenerateName)

	results := common.ParseObjects(ctx, []byte(text), true)
	if len(results) == 0 {
		// ParseObjects drops a document whose strict YAML-to-JSON conversion
		// fails (a duplicate key), and argo lint then skips it silently.
		if _, err := yaml.YAMLToJSONStrict([]byte(text)); err != nil {
			d.err = fmt.Errorf("strict YAML decoding error: %w", err)
		} else {
			d.err = errors.New("not a Kubernetes object")
		}
		return d
	}
	if len(results) > 1 {
		d.err = fmt.Errorf("expected one object, found %d", len(results))
		return d
	}
	obj, err := results[0].Object, results[0].Err
	if obj == nil {
		if err == nil {
			err = errors.New("could not decode")
		}
		d.err = err
		return d
	}
	switch obj.(type) {
	case *wfv1.Workflow, *wfv1.WorkflowTemplate, *wfv1.ClusterWorkflowTemplate, *wfv1.CronWorkflow, *wfv1.WorkflowEventBinding:
		d.obj = obj
		d.err = err
		d.name = objectName(obj.GetName(), obj.GetGenerateName())
	default:
		if strings.HasPrefix(head.APIVersion, "argoproj.io/") || head.Kind == "" {
			d.err = fmt.Errorf("apiVersion %q kind %q is not a kind this checker (or argo lint) validates", head.APIVersion, head.Kind)
		} else {
			d.skip = fmt.Sprintf("%s %s is not an Argo Workflows kind", head.APIVersion, head.Kind)
		}
	}
	return d
}

func readInput(path string) (string, []byte, error) {
	if path == "-" {
		b, err := io.ReadAll(os.Stdin)
		return "<stdin>", b, err
	}
	b, err := os.ReadFile(path)
	return path, b, err
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: argo-lint FILE...   (\"-\" reads standard input)")
	fmt.Fprintln(os.Stderr, "Decodes every Argo Workflows document strictly and validates it with Argo's own")
	fmt.Fprintln(os.Stderr, "lint code (github.com/argoproj/argo-workflows/v4/workflow/validate, Lint: true).")
}

func main() {
	if len(os.Args) > 1 {
		commands := map[string]func([]string) int{
			"resolve":      runResolve,
			"pods":         runPods,
			"pod-security": runPodSecurity,
			"eval":         runEval,
		}
		if command, ok := commands[os.Args[1]]; ok {
			os.Exit(command(os.Args[2:]))
		}
	}
	os.Exit(run(os.Args[1:]))
}

// quietContext carries a logger that prints only errors (Argo's code requires a logger in its context).
func quietContext() context.Context {
	return logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, os.Stderr))
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	for _, a := range args {
		if a == "-h" || a == "--help" {
			usage()
			return 0
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			fmt.Fprintf(os.Stderr, "argo-lint: unknown option %s\n", a)
			usage()
			return 2
		}
	}

	ctx := quietContext()

	var docs []*document
	stdinRead := false
	for _, path := range args {
		if path == "-" {
			if stdinRead {
				fmt.Fprintln(os.Stderr, "argo-lint: \"-\" given more than once")
				return 2
			}
			stdinRead = true
		}
		name, data, err := readInput(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "argo-lint: %v\n", err)
			return 2
		}
		index := 0
		for _, text := range documentSeparator.Split(string(data), -1) {
			if strings.TrimSpace(text) == "" || isOnlyComments(text) {
				continue
			}
			index++
			docs = append(docs, parseDocument(ctx, name, index, text))
		}
		if index == 0 {
			docs = append(docs, &document{file: name, index: 0, err: errors.New("no YAML document")})
		}
	}

	// Templates from every file, so that references between them resolve.
	store := &templateStore{
		byNamespace: map[string]map[string]*wfv1.WorkflowTemplate{},
		cluster:     map[string]*wfv1.ClusterWorkflowTemplate{},
	}
	for _, d := range docs {
		switch v := d.obj.(type) {
		case *wfv1.WorkflowTemplate:
			ns := store.byNamespace[v.Namespace]
			if ns == nil {
				ns = map[string]*wfv1.WorkflowTemplate{}
				store.byNamespace[v.Namespace] = ns
			}
			if _, dup := ns[v.Name]; dup && d.err == nil {
				d.err = fmt.Errorf("duplicate WorkflowTemplate %q", v.Name)
			}
			ns[v.Name] = v
		case *wfv1.ClusterWorkflowTemplate:
			if _, dup := store.cluster[v.Name]; dup && d.err == nil {
				d.err = fmt.Errorf("duplicate ClusterWorkflowTemplate %q", v.Name)
			}
			store.cluster[v.Name] = v
		}
	}

	failed := false
	linted := 0
	for _, d := range docs {
		if d.skip != "" {
			fmt.Printf("SKIP %s document %d: %s\n", d.file, d.index, d.skip)
			continue
		}
		err := d.err
		if err == nil {
			err = validateObject(ctx, store, d.obj)
		}
		if err == nil {
			err = checkExpressionSyntax(d.obj)
		}
		if err != nil {
			failed = true
			fmt.Printf("ERROR %s: %s\n", d.label(), oneLine(err.Error()))
			continue
		}
		linted++
		fmt.Printf("OK %s %s/%s\n", d.file, d.kind, d.name)
	}
	if linted == 0 && !failed {
		fmt.Println("ERROR no Argo Workflows object found")
		failed = true
	}
	if failed {
		return 1
	}
	return 0
}

func validateObject(ctx context.Context, store *templateStore, obj any) error {
	opts := validate.ValidateOpts{Lint: true}
	cg := clusterGetter{store}
	switch v := obj.(type) {
	case *wfv1.Workflow:
		return validate.ValidateWorkflow(ctx, namespacedGetter{store, v.Namespace}, cg, v, nil, opts)
	case *wfv1.WorkflowTemplate:
		return validate.ValidateWorkflowTemplate(ctx, namespacedGetter{store, v.Namespace}, cg, v, nil, opts)
	case *wfv1.ClusterWorkflowTemplate:
		return validate.ValidateClusterWorkflowTemplate(ctx, namespacedGetter{store, v.Namespace}, cg, v, nil, opts)
	case *wfv1.CronWorkflow:
		return validate.ValidateCronWorkflow(ctx, namespacedGetter{store, v.Namespace}, cg, v, nil)
	case *wfv1.WorkflowEventBinding:
		return nil // argo lint does not validate these either
	}
	return fmt.Errorf("unexpected object %T", obj)
}

// checkExpressionSyntax is the one check that goes beyond argo lint, which
// skips expression tags (util/template.Validate: "we do not validate expression
// templates"). The controller substitutes {{...}} tags in the JSON text of a
// template (util/template.NewTemplate over json.Marshal of it), and evaluates a
// {{=EXPR}} tag with expr-lang (util/template.expressionReplaceCore): an EXPR
// that does not even parse can never be evaluated. This finds tags the way the
// controller does (fasttemplate, "{{" to the next "}}", over the JSON of the
// spec), undoes the JSON escapes the same way, and parses EXPR with the
// expr-lang parser that Argo itself uses. Syntax only: names are not checked.
//
// The bare expressions of a template (retryStrategy.expression, an output
// parameter's valueFrom.expression), which the controller compiles with the same
// expr-lang when it evaluates them, are parsed the same way.
func checkExpressionSyntax(obj any) error {
	var spec *wfv1.WorkflowSpec
	switch v := obj.(type) {
	case *wfv1.Workflow:
		spec = &v.Spec
	case *wfv1.WorkflowTemplate:
		spec = &v.Spec
	case *wfv1.ClusterWorkflowTemplate:
		spec = &v.Spec
	case *wfv1.CronWorkflow:
		spec = &v.Spec.WorkflowSpec
	default:
		return nil
	}
	for _, t := range spec.Templates {
		var bare []string
		if t.RetryStrategy != nil && t.RetryStrategy.Expression != "" {
			bare = append(bare, t.RetryStrategy.Expression)
		}
		for _, p := range t.Outputs.Parameters {
			if p.ValueFrom != nil && p.ValueFrom.Expression != "" {
				bare = append(bare, p.ValueFrom.Expression)
			}
		}
		for _, expression := range bare {
			if _, err := parser.Parse(expression); err != nil {
				return fmt.Errorf("template %s: invalid expression %q: %s (expression syntax check by packline's argo-lint; argo lint itself does not parse expressions)", t.Name, expression, oneLine(err.Error()))
			}
		}
	}
	text, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	t, err := fasttemplate.NewTemplate(string(text), "{{", "}}")
	if err != nil {
		return err
	}
	_, err = t.ExecuteFunc(io.Discard, func(_ io.Writer, tag string) (int, error) {
		raw, ok := strings.CutPrefix(tag, "=")
		if !ok {
			return 0, nil
		}
		raw = jsonutil.Fix(raw)
		var expression string
		if err := json.Unmarshal([]byte(`"`+raw+`"`), &expression); err != nil {
			return 0, fmt.Errorf("expression {{=%s}} cannot be read: %w", raw, err)
		}
		if _, err := parser.Parse(expression); err != nil {
			return 0, fmt.Errorf("invalid expression {{=%s}}: %s (expression syntax check by packline's argo-lint; argo lint itself does not parse expressions)", expression, oneLine(err.Error()))
		}
		return 0, nil
	})
	return err
}

func isOnlyComments(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") && t != "---" && t != "..." {
			return false
		}
	}
	return true
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
