package main

import (
	"go/ast"
	"go/printer"
	"go/token"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// ruler compiles the provider's validators into awsapi.Rules: the schema helpers
// (validation.StringLenBetween, stringvalidator.RegexMatches, ...), and the package's own
// validator functions, whose bodies are read as "append an error when <condition>".
type ruler struct {
	t    *tree
	p    *pkg
	attr string // the attribute being validated: validators test k (its name) sometimes
	// args binds a parametrised validator's parameters (validResourceName(max)).
	args  map[string]ast.Expr
	depth int
}

// importedPkg is the package a qualifier names in the file e is in.
func (r ruler) importedPkg(e ast.Node, qualifier string) (*pkg, bool) {
	f := r.p.fileContaining(e.Pos())
	if f == nil {
		return nil, false
	}
	path, ok := f.imports[qualifier]
	if !ok {
		return nil, false
	}
	return r.t.imported(path)
}

// in is the ruler for another package's declarations.
func (r ruler) in(p *pkg) ruler { return ruler{t: r.t, p: p, attr: r.attr, depth: r.depth} }

// rule compiles one validator expression.
func (r ruler) rule(e ast.Expr) *awsapi.Rule {
	if r.depth > 6 || e == nil {
		return unknown(e)
	}
	r.depth++
	switch e := e.(type) {
	case *ast.CallExpr:
		return r.call(e)
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if p, ok := r.importedPkg(e, x.Name); ok && isProvider(p) {
				if fd, ok := p.funcs[e.Sel.Name]; ok {
					return r.in(p).function(fd, nil)
				}
				if v, ok := p.vars[e.Sel.Name]; ok {
					return r.in(p).rule(v)
				}
			}
		}
		return named(selectorName(e))
	case *ast.Ident:
		if v, ok := r.args[e.Name]; ok {
			return r.rule(v)
		}
		if fd, ok := r.p.funcs[e.Name]; ok {
			return r.function(fd, nil)
		}
		if v, ok := r.p.vars[e.Name]; ok {
			return r.rule(v)
		}
	case *ast.FuncLit:
		return r.body(e.Type, e.Body)
	case *ast.CompositeLit: // []validator.String{...}: all of them
		var of []awsapi.Rule
		for _, elt := range e.Elts {
			of = append(of, *r.rule(elt))
		}
		return all(of)
	}
	return unknown(e)
}

// call compiles a validator constructor call.
func (r ruler) call(e *ast.CallExpr) *awsapi.Rule {
	fun := e.Fun
	if ix, ok := fun.(*ast.IndexExpr); ok { // enum.Validate[types.X]()
		if sel, ok := ix.X.(*ast.SelectorExpr); ok {
			switch selectorName(sel) {
			case "enum.Validate", "enum.ValidateIgnoreCase", "enum.FrameworkValidate", "enum.FrameworkValidateIgnoreCase":
				if values, ok := r.enumValues(ix.Index); ok {
					return &awsapi.Rule{Kind: "enum", Values: values, Fold: strings.Contains(sel.Sel.Name, "IgnoreCase")}
				}
			}
			return named(selectorName(sel) + "[" + exprString(ix.Index) + "]")
		}
	}
	if id, ok := fun.(*ast.Ident); ok {
		if fd, ok := r.p.funcs[id.Name]; ok {
			return r.function(fd, e.Args)
		}
		return unknown(e)
	}
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return unknown(e)
	}
	arg := func(i int) ast.Expr {
		if i < len(e.Args) {
			return e.Args[i]
		}
		return nil
	}
	switch name := selectorName(sel); name {
	case "validation.StringLenBetween", "stringvalidator.LengthBetween":
		return lenRule(r.int(arg(0)), r.int(arg(1)))
	case "stringvalidator.LengthAtMost":
		return lenRule(nil, r.int(arg(0)))
	case "stringvalidator.LengthAtLeast":
		return lenRule(r.int(arg(0)), nil)
	case "validation.StringMatch", "stringvalidator.RegexMatches":
		return r.pattern("match", arg(0))
	case "validation.StringDoesNotMatch":
		return r.pattern("notMatch", arg(0))
	case "validation.StringInSlice":
		values, ok := r.strings(arg(0))
		if !ok {
			values, ok = r.valuesCall(arg(0))
		}
		if !ok {
			return named(name + "(" + exprString(arg(0)) + ")")
		}
		return &awsapi.Rule{Kind: "enum", Values: values, Fold: exprString(arg(1)) == "true"}
	case "stringvalidator.OneOf", "stringvalidator.OneOfCaseInsensitive":
		var values []string
		for _, a := range e.Args {
			s, ok := r.string(a)
			if !ok {
				return named(name)
			}
			values = append(values, s)
		}
		return &awsapi.Rule{Kind: "enum", Values: values, Fold: strings.HasSuffix(name, "CaseInsensitive")}
	case "validation.IntInSlice", "int64validator.OneOf":
		var values []string
		src := e.Args
		if cl, ok := arg(0).(*ast.CompositeLit); ok && name == "validation.IntInSlice" {
			src = cl.Elts
		}
		for _, a := range src {
			n := r.int(a)
			if n == nil {
				return named(name)
			}
			values = append(values, strconv.FormatInt(*n, 10))
		}
		return &awsapi.Rule{Kind: "enum", Values: values}
	case "validation.IntBetween", "int64validator.Between", "validation.FloatBetween", "float64validator.Between":
		return &awsapi.Rule{Kind: "range", Min: r.int(arg(0)), Max: r.int(arg(1))}
	case "validation.IntAtLeast", "int64validator.AtLeast":
		return &awsapi.Rule{Kind: "range", Min: r.int(arg(0))}
	case "validation.IntAtMost", "int64validator.AtMost":
		return &awsapi.Rule{Kind: "range", Max: r.int(arg(0))}
	case "validation.All", "validation.AllDiag":
		var of []awsapi.Rule
		for _, a := range e.Args {
			of = append(of, *r.rule(a))
		}
		return all(of)
	case "validation.Any":
		var of []awsapi.Rule
		for _, a := range e.Args {
			of = append(of, *r.rule(a))
		}
		return &awsapi.Rule{Kind: "any", Of: of}
	case "validation.ToDiagFunc":
		return r.rule(arg(0))
	}
	if x, ok := sel.X.(*ast.Ident); ok {
		if p, ok := r.importedPkg(e, x.Name); ok && isProvider(p) {
			if fd, ok := p.funcs[sel.Sel.Name]; ok {
				return r.in(p).function(fd, e.Args)
			}
		}
	}
	return named(selectorName(sel))
}

// isProvider reports one of the provider's own packages (whose validators are compiled),
// as opposed to a dependency (read only for constants and enum values).
func isProvider(p *pkg) bool { return strings.HasPrefix(p.dir, "internal/") || p.dir == "names" }

// function compiles a validator the package declares: a constructor that returns one (whose
// parameters the call binds), or a validator function itself.
func (r ruler) function(fd *ast.FuncDecl, args []ast.Expr) *awsapi.Rule {
	bound := map[string]ast.Expr{}
	i := 0
	for _, f := range fd.Type.Params.List {
		for _, n := range f.Names {
			if i < len(args) {
				bound[n.Name] = args[i]
			}
			i++
		}
	}
	var out *awsapi.Rule
	if len(fd.Body.List) == 1 {
		if ret, ok := fd.Body.List[0].(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
			out = ruler{t: r.t, p: r.p, attr: r.attr, args: bound, depth: r.depth}.rule(ret.Results[0])
		}
	}
	if out == nil {
		out = r.body(fd.Type, fd.Body)
	}
	if !checkable(out) { // a validator the checker knows by name (verify.ValidARN) says more than its unread parts
		return named(strings.TrimPrefix(r.p.dir, "internal/") + "." + fd.Name.Name)
	}
	return out
}

// checkable reports a rule with at least one part the checker can evaluate.
func checkable(r *awsapi.Rule) bool {
	switch r.Kind {
	case "unknown", "named":
		return false
	case "all", "any", "not":
		for i := range r.Of {
			if checkable(&r.Of[i]) {
				return true
			}
		}
		return false
	}
	return true
}

// pattern compiles the regexp argument of a match helper.
func (r ruler) pattern(kind string, e ast.Expr) *awsapi.Rule {
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 {
		if s, ok := r.string(call.Args[0]); ok {
			return &awsapi.Rule{Kind: kind, Pattern: s}
		}
	}
	if id, ok := e.(*ast.Ident); ok {
		if v, ok := r.p.vars[id.Name]; ok {
			return r.pattern(kind, v)
		}
	}
	return unknown(e)
}

func (r ruler) string(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		if v, ok := r.args[e.Name]; ok {
			return r.string(v)
		}
		s, ok := r.p.consts[e.Name]
		return s, ok
	case *ast.SelectorExpr:
		if s := r.t.stringValue(r.p, e); s != "" {
			return s, true
		}
		if x, ok := e.X.(*ast.Ident); ok {
			if p, ok := r.importedPkg(e, x.Name); ok {
				s, ok := p.consts[e.Sel.Name]
				return s, ok
			}
		}
	}
	return "", false
}

func (r ruler) strings(e ast.Expr) ([]string, bool) {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	var out []string
	for _, elt := range cl.Elts {
		s, ok := r.string(elt)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (r ruler) int(e ast.Expr) *int64 {
	switch e := e.(type) {
	case *ast.BasicLit:
		if n, err := strconv.ParseInt(e.Value, 0, 64); err == nil {
			return &n
		}
		if f, err := strconv.ParseFloat(e.Value, 64); err == nil {
			n := int64(f)
			return &n
		}
	case *ast.UnaryExpr:
		if e.Op == token.SUB {
			if n := r.int(e.X); n != nil {
				return ptr(-*n)
			}
		}
	case *ast.Ident:
		if v, ok := r.args[e.Name]; ok {
			return r.int(v)
		}
		if v, ok := r.p.ints[e.Name]; ok {
			return &v
		}
	case *ast.SelectorExpr: // id.UniqueIDSuffixLength, from the plugin SDK the provider pins
		if x, ok := e.X.(*ast.Ident); ok {
			if p, ok := r.importedPkg(e, x.Name); ok {
				if v, ok := p.ints[e.Sel.Name]; ok {
					return &v
				}
			}
		}
	case *ast.ParenExpr:
		return r.int(e.X)
	case *ast.BinaryExpr:
		a, b := r.int(e.X), r.int(e.Y)
		if a == nil || b == nil {
			return nil
		}
		switch e.Op {
		case token.ADD:
			return ptr(*a + *b)
		case token.SUB:
			return ptr(*a - *b)
		case token.MUL:
			return ptr(*a * *b)
		}
	}
	return nil
}

func lenRule(min, max *int64) *awsapi.Rule { return &awsapi.Rule{Kind: "len", Min: min, Max: max} }

func all(of []awsapi.Rule) *awsapi.Rule {
	if len(of) == 1 {
		return &of[0]
	}
	return &awsapi.Rule{Kind: "all", Of: of}
}

func negate(r *awsapi.Rule) *awsapi.Rule {
	if r.Kind == "match" {
		return &awsapi.Rule{Kind: "notMatch", Pattern: r.Pattern}
	}
	return &awsapi.Rule{Kind: "not", Of: []awsapi.Rule{*r}}
}

func named(name string) *awsapi.Rule { return &awsapi.Rule{Kind: "named", Name: name} }

func unknown(e ast.Node) *awsapi.Rule {
	return &awsapi.Rule{Kind: "unknown", Name: exprString(e)}
}

func ptr(n int64) *int64 { return &n }

func selectorName(sel *ast.SelectorExpr) string { return exprString(sel.X) + "." + sel.Sel.Name }

func exprString(n ast.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	_ = printer.Fprint(&b, token.NewFileSet(), n)
	s := b.String()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
