package main

import (
	"go/ast"
	"go/printer"
	"go/token"
	"regexp"
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

// enumValues reads the values of an enum type: the SDK's types.X (func (X) Values() []X) at the
// version the provider pins, or a type of the package itself.
func (r ruler) enumValues(typ ast.Expr) ([]string, bool) {
	p, name := r.p, ""
	switch typ := typ.(type) {
	case *ast.Ident:
		name = typ.Name
	case *ast.SelectorExpr:
		x, ok := typ.X.(*ast.Ident)
		if !ok {
			return nil, false
		}
		if p, ok = r.importedPkg(typ, x.Name); !ok {
			return nil, false
		}
		name = typ.Sel.Name
	default:
		return nil, false
	}
	m, ok := p.methods[name]["Values"]
	if !ok || m.Body == nil {
		return nil, false
	}
	for _, st := range m.Body.List {
		if ret, ok := st.(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
			return r.in(p).strings(ret.Results[0])
		}
	}
	return nil, false
}

// valuesCall reads an SDK v1 X_Values() list, or the package's own function returning one.
func (r ruler) valuesCall(e ast.Expr) ([]string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return nil, false
	}
	p, name := r.p, ""
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		name = fun.Name
	case *ast.SelectorExpr:
		x, ok := fun.X.(*ast.Ident)
		if !ok {
			return nil, false
		}
		if p, ok = r.importedPkg(fun, x.Name); !ok {
			return nil, false
		}
		name = fun.Sel.Name
	case *ast.IndexExpr: // enum.Values[types.X]()
		if sel, ok := fun.X.(*ast.SelectorExpr); ok && selectorName(sel) == "enum.Values" {
			return r.enumValues(fun.Index)
		}
		return nil, false
	default:
		return nil, false
	}
	fd, ok := p.funcs[name]
	if !ok || fd.Body == nil {
		return nil, false
	}
	for _, st := range fd.Body.List {
		if ret, ok := st.(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
			return r.in(p).strings(ret.Results[0])
		}
	}
	return nil, false
}

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

// body reads a validator function: (v interface{}, k string) (ws []string, errors []error).
// Each if statement (and else-if) whose branch appends an error contributes the rule that its
// condition must not hold; an empty-value short-circuit makes the whole rule accept "".
func (r ruler) body(ft *ast.FuncType, body *ast.BlockStmt) *awsapi.Rule {
	names := paramNames(ft)
	if len(names) < 2 {
		return unknown(body)
	}
	c := conditions{r: r, key: names[1], value: map[string]bool{}}
	var of []awsapi.Rule
	orEmpty := false
	var walk func(st ast.Stmt)
	walk = func(st ast.Stmt) {
		ifs, ok := st.(*ast.IfStmt)
		if !ok {
			if as, ok := st.(*ast.AssignStmt); ok && len(as.Rhs) == 1 {
				c.bind(as)
			}
			return
		}
		if returnsEarly(ifs.Body) && c.isEmptyTest(ifs.Cond) {
			orEmpty = true
		} else if appendsError(ifs.Body) {
			if v := c.violation(ifs.Cond); v != nil {
				of = append(of, *v)
			}
		}
		if ifs.Else != nil {
			if elif, ok := ifs.Else.(*ast.IfStmt); ok {
				walk(elif)
			}
		}
	}
	for _, st := range body.List {
		walk(st)
	}
	rule := all(of)
	if orEmpty {
		rule = &awsapi.Rule{Kind: "any", Of: []awsapi.Rule{{Kind: "len", Max: ptr(0)}, *rule}}
	}
	return rule
}

// conditions turns an error branch's condition into the rule the value must meet instead.
type conditions struct {
	r     ruler
	key   string            // the parameter holding the attribute's name
	value map[string]bool   // names bound to the value (value := v.(string))
	vars  map[string]string // names bound to a string literal (pattern := `...`)
}

func (c *conditions) bind(as *ast.AssignStmt) {
	id, ok := as.Lhs[0].(*ast.Ident)
	if !ok {
		return
	}
	switch rhs := as.Rhs[0].(type) {
	case *ast.TypeAssertExpr:
		c.value[id.Name] = true
	case *ast.BasicLit:
		if s, err := strconv.Unquote(rhs.Value); err == nil {
			if c.vars == nil {
				c.vars = map[string]string{}
			}
			c.vars[id.Name] = s
			return
		}
	}
	if c.r.int(as.Rhs[0]) != nil { // prefixMaxLength := 32 - id.UniqueIDSuffixLength
		if c.r.args == nil {
			c.r.args = map[string]ast.Expr{}
		}
		c.r.args[id.Name] = as.Rhs[0]
	}
}

func (c *conditions) isValue(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && c.value[id.Name]
}

func (c *conditions) isEmptyTest(e ast.Expr) bool {
	b, ok := e.(*ast.BinaryExpr)
	if !ok || b.Op != token.EQL {
		return false
	}
	if call, ok := b.X.(*ast.CallExpr); ok && exprString(call.Fun) == "len" && len(call.Args) == 1 && c.isValue(call.Args[0]) {
		return exprString(b.Y) == "0"
	}
	return c.isValue(b.X) && exprString(b.Y) == `""`
}

// violation compiles a condition under which the validator fails into the rule that holds when
// it does not; a condition on the attribute's name is decided here, where the name is known.
func (c *conditions) violation(e ast.Expr) *awsapi.Rule {
	if b, known := c.aboutKey(e); known {
		if b {
			return &awsapi.Rule{Kind: "never"}
		}
		return nil
	}
	switch e := e.(type) {
	case *ast.ParenExpr:
		return c.violation(e.X)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND:
			if b, known := c.aboutKey(e.X); known {
				if !b {
					return nil
				}
				return c.violation(e.Y)
			}
			if b, known := c.aboutKey(e.Y); known {
				if !b {
					return nil
				}
				return c.violation(e.X)
			}
		case token.LOR:
			var of []awsapi.Rule
			for _, side := range []ast.Expr{e.X, e.Y} {
				if v := c.violation(side); v != nil {
					of = append(of, *v)
				}
			}
			return all(of)
		case token.GTR, token.GEQ, token.LSS, token.LEQ:
			call, ok := e.X.(*ast.CallExpr)
			if !ok || exprString(call.Fun) != "len" || len(call.Args) != 1 || !c.isValue(call.Args[0]) {
				break
			}
			n := c.r.int(e.Y)
			if n == nil {
				break
			}
			switch e.Op {
			case token.GTR:
				return lenRule(nil, n)
			case token.GEQ:
				return lenRule(nil, ptr(*n-1))
			case token.LSS:
				return lenRule(n, nil)
			case token.LEQ:
				return lenRule(ptr(*n+1), nil)
			}
		}
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			if m := c.matches(e.X); m != nil {
				return m
			}
		}
	case *ast.CallExpr:
		if m := c.matches(e); m != nil {
			return negate(m)
		}
	}
	return unknown(e)
}

// matches compiles a test of the value (a regexp match, a prefix, a suffix, a substring) into
// the rule that holds when the test is true.
func (c *conditions) matches(e ast.Expr) *awsapi.Rule {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return nil
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	if sel.Sel.Name == "MatchString" && len(call.Args) == 1 && c.isValue(call.Args[0]) {
		if mc, ok := sel.X.(*ast.CallExpr); ok && len(mc.Args) == 1 {
			if re, ok := c.literal(mc.Args[0]); ok {
				return &awsapi.Rule{Kind: "match", Pattern: re}
			}
		}
		return nil
	}
	if len(call.Args) != 2 || !c.isValue(call.Args[0]) || exprString(sel.X) != "strings" {
		return nil
	}
	lit, ok := c.literal(call.Args[1])
	if !ok {
		return nil
	}
	switch sel.Sel.Name {
	case "HasPrefix":
		return &awsapi.Rule{Kind: "match", Pattern: "^" + regexp.QuoteMeta(lit)}
	case "HasSuffix":
		return &awsapi.Rule{Kind: "match", Pattern: regexp.QuoteMeta(lit) + "$"}
	case "Contains":
		return &awsapi.Rule{Kind: "match", Pattern: regexp.QuoteMeta(lit)}
	}
	return nil
}

// aboutKey decides a condition that tests only the attribute's name (strings.HasSuffix(k, "prefix")).
func (c *conditions) aboutKey(e ast.Expr) (bool, bool) {
	switch e := e.(type) {
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			b, ok := c.aboutKey(e.X)
			return !b, ok
		}
	case *ast.CallExpr:
		sel, ok := e.Fun.(*ast.SelectorExpr)
		if !ok || exprString(sel.X) != "strings" || len(e.Args) != 2 {
			return false, false
		}
		if id, ok := e.Args[0].(*ast.Ident); !ok || id.Name != c.key {
			return false, false
		}
		lit, ok := c.literal(e.Args[1])
		if !ok {
			return false, false
		}
		switch sel.Sel.Name {
		case "HasSuffix":
			return strings.HasSuffix(c.r.attr, lit), true
		case "HasPrefix":
			return strings.HasPrefix(c.r.attr, lit), true
		case "Contains":
			return strings.Contains(c.r.attr, lit), true
		}
	}
	return false, false
}

func (c *conditions) literal(e ast.Expr) (string, bool) {
	if id, ok := e.(*ast.Ident); ok {
		if s, ok := c.vars[id.Name]; ok {
			return s, true
		}
	}
	return c.r.string(e)
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

func paramNames(ft *ast.FuncType) []string {
	var out []string
	for _, f := range ft.Params.List {
		for _, n := range f.Names {
			out = append(out, n.Name)
		}
	}
	return out
}

// appendsError reports a branch that records a validation error.
func appendsError(b *ast.BlockStmt) bool {
	found := false
	ast.Inspect(b, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "append" && len(call.Args) > 0 {
				if strings.Contains(strings.ToLower(exprString(call.Args[0])), "err") || exprString(call.Args[0]) == "es" {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// returnsEarly reports a branch that is only a bare return.
func returnsEarly(b *ast.BlockStmt) bool {
	if len(b.List) != 1 {
		return false
	}
	ret, ok := b.List[0].(*ast.ReturnStmt)
	return ok && len(ret.Results) == 0
}
