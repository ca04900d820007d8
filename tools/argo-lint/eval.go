package main

// argo-lint eval < requests.json
//
// Evaluates Argo expressions with the code and the variables Argo's controller (v4.0.5) uses for each place an
// expression can stand. Standard input: a JSON array of requests; standard output: a JSON array of results, one per
// request, {"result": <value>} or {"error": "<message>"}.
//
//	{"kind": "retry", "expression": "...", "vars": {"lastRetry.exitCode": "62", "lastRetry.status": "Failed", ...}}
//	    retryStrategy.expression: argoexpr.EvalBool over env.GetFuncMap(vars), as operator.go processNodeRetries
//	    does (vars are its local scope: retries, lastRetry.exitCode, lastRetry.status, lastRetry.duration,
//	    lastRetry.message).
//	{"kind": "value", "expression": "...", "vars": {"steps.check.outputs.parameters.outcome": "published", ...}}
//	    an output parameter's valueFrom.expression: expr.Compile(expr.Env(env)) then expr.Run over
//	    env.GetFuncMap(scope), as scope.go resolveParameter does.
//	{"kind": "text", "text": "registry/app:{{=...}} {{inputs.parameters.x}}", "vars": {...}}
//	    a string of a step (its arguments): JSON-marshalled, then template.ReplaceStrict with the strict prefixes
//	    "steps" and "tasks", as steps.go resolveReferences does with a step.
//	{"kind": "when", "text": "{{steps.check.outputs.parameters.outcome}} == unpublished", "vars": {...}}
//	    a step's `when`: substituted as above, then decided by shouldExecute (below, copied from steps.go, where it
//	    is unexported).

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Knetic/govaluate"
	"github.com/expr-lang/expr"

	"github.com/argoproj/argo-workflows/v4/util/expr/argoexpr"
	"github.com/argoproj/argo-workflows/v4/util/expr/env"
	"github.com/argoproj/argo-workflows/v4/util/template"
)

type evalRequest struct {
	Kind       string            `json:"kind"`
	Expression string            `json:"expression,omitempty"`
	Text       string            `json:"text,omitempty"`
	Vars       map[string]string `json:"vars"`
}

type evalResult struct {
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

func runEval(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: argo-lint eval < requests.json   (a JSON array of {kind, expression|text, vars})")
		return 2
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return report("eval", usageError{err})
	}
	var requests []evalRequest
	if err := strictJSON(data, &requests); err != nil {
		return report("eval", usageError{fmt.Errorf("standard input is not a JSON array of requests: %w", err)})
	}
	out := make([]evalResult, len(requests))
	for i, r := range requests {
		value, err := evalOne(r)
		if err != nil {
			out[i] = evalResult{Error: oneLine(err.Error())}
		} else {
			out[i] = evalResult{Result: value}
		}
	}
	return printJSON(out)
}

func evalOne(r evalRequest) (any, error) {
	scope := map[string]any{}
	for k, v := range r.Vars {
		scope[k] = v
	}
	switch r.Kind {
	case "retry":
		return argoexpr.EvalBool(r.Expression, env.GetFuncMap(scope))
	case "value":
		e := env.GetFuncMap(scope)
		program, err := expr.Compile(r.Expression, expr.Env(e))
		if err != nil {
			return nil, err
		}
		return expr.Run(program, e)
	case "text":
		return replaceInStep(r.Text, r.Vars)
	case "when":
		resolved, err := replaceInStep(r.Text, r.Vars)
		if err != nil {
			return nil, err
		}
		return shouldExecute(resolved)
	}
	return nil, fmt.Errorf("unknown kind %q (retry, value, text or when)", r.Kind)
}

// replaceInStep substitutes a string of a step as resolveReferences does: inside the step's JSON.
func replaceInStep(text string, vars map[string]string) (string, error) {
	quoted, err := json.Marshal(text)
	if err != nil {
		return "", err
	}
	replaced, err := template.ReplaceStrict(quietContext(), string(quoted), vars, []string{"steps", "tasks"})
	if err != nil {
		return "", err
	}
	var out string
	if err := json.Unmarshal([]byte(replaced), &out); err != nil {
		return "", err
	}
	return out, nil
}

// shouldExecute is workflow/controller/steps.go's shouldExecute of Argo Workflows v4.0.5 (Apache-2.0, Copyright The
// Argo Authors), unexported there; its error wrapping is simplified, its logic unchanged.
func shouldExecute(when string) (bool, error) {
	if when == "" {
		return true, nil
	}
	expression, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		if strings.Contains(err.Error(), "Invalid token") {
			return false, fmt.Errorf("invalid 'when' expression '%s': %v (hint: try wrapping the affected expression in quotes (\"))", when, err)
		}
		return false, fmt.Errorf("invalid 'when' expression '%s': %v", when, err)
	}
	// The following loop converts govaluate variables (which we don't use), into strings. This
	// allows us to have expressions like: "foo != bar" without requiring foo and bar to be quoted.
	tokens := expression.Tokens()
	for i, tok := range tokens {
		switch tok.Kind {
		case govaluate.VARIABLE:
			tok.Kind = govaluate.STRING
		default:
			continue
		}
		tokens[i] = tok
	}
	expression, err = govaluate.NewEvaluableExpressionFromTokens(tokens)
	if err != nil {
		return false, fmt.Errorf("failed to parse 'when' expression '%s': %v", when, err)
	}
	result, err := expression.Evaluate(nil)
	if err != nil {
		return false, fmt.Errorf("failed to evaluate 'when' expresion '%s': %v", when, err)
	}
	boolRes, ok := result.(bool)
	if !ok {
		return false, fmt.Errorf("expected boolean evaluation for '%s'. Got %v", when, result)
	}
	return boolRes, nil
}
