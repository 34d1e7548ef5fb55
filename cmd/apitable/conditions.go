package main

import (
	"go/ast"
	"go/token"
	"regexp"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

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
