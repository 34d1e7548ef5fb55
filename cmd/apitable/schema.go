package main

import (
	"go/ast"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// attributes lists a definition's schema attribute names, nested blocks as dotted paths, with
// what the schema says of each.
func (t *tree) attributes(def *definition) ([]string, map[string]awsapi.Constraint) {
	if def.schema == nil {
		return nil, nil
	}
	set := map[string]awsapi.Constraint{}
	for _, m := range t.schemaMaps(def.pkg, def.schema, 0) {
		t.collect(def.pkg, m, "", set, 0)
	}
	return slices.Sorted(maps.Keys(set)), set
}

// collect adds the keys of one schema map literal and recurses into nested schemas.
func (t *tree) collect(p *pkg, m *ast.CompositeLit, prefix string, set map[string]awsapi.Constraint, depth int) {
	if depth > 8 {
		return
	}
	for _, elt := range m.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		name := t.stringValue(p, kv.Key)
		if name == "" {
			continue
		}
		c := t.constraint(p, name, kv.Value)
		c.At = t.position(kv.Pos())
		set[prefix+name] = c
		for _, nested := range t.schemaMaps(p, kv.Value, depth+1) {
			t.collect(p, nested, prefix+name+".", set, depth+1)
		}
	}
}

// position is a provider file:line, relative to the tree's root (or its overlay).
func (t *tree) position(pos token.Pos) string {
	at := t.fset.Position(pos)
	name := filepath.ToSlash(at.Filename)
	for _, base := range []string{t.root, t.overlay} {
		if base == "" {
			continue
		}
		if rel, err := filepath.Rel(base, at.Filename); err == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel)
		}
	}
	return name + ":" + strconv.Itoa(at.Line)
}

// constraint reads one attribute's schema literal (SDK schema.Schema or a framework attribute
// or block), following a package function that returns it.
func (t *tree) constraint(p *pkg, name string, e ast.Expr) awsapi.Constraint {
	var c awsapi.Constraint
	lit := schemaLiteral(p, e, 0)
	if lit == nil {
		return c
	}
	r := ruler{t: t, p: p, attr: name}
	for _, elt := range lit.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		switch key.Name {
		case "Required":
			c.Required = exprString(kv.Value) == "true"
		case "Optional":
			c.Optional = exprString(kv.Value) == "true"
		case "Computed":
			c.Computed = exprString(kv.Value) == "true"
		case "MaxItems":
			if n := r.int(kv.Value); n != nil {
				c.MaxItems = int(*n)
			}
		case "MinItems":
			if n := r.int(kv.Value); n != nil {
				c.MinItems = int(*n)
			}
		case "ConflictsWith":
			c.ConflictsWith = t.paths(p, kv.Value)
		case "ExactlyOneOf":
			c.ExactlyOneOf = t.paths(p, kv.Value)
		case "AtLeastOneOf":
			c.AtLeastOneOf = t.paths(p, kv.Value)
		case "RequiredWith":
			c.RequiredWith = t.paths(p, kv.Value)
		case "ValidateFunc", "ValidateDiagFunc":
			c.Rule = r.rule(kv.Value)
		case "Validators":
			c.Rule = t.frameworkValidators(r, kv.Value, &c)
		}
	}
	return c
}

// frameworkValidators compiles a framework Validators list; size validators of blocks become
// MaxItems and MinItems.
func (t *tree) frameworkValidators(r ruler, e ast.Expr, c *awsapi.Constraint) *awsapi.Rule {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return r.rule(e)
	}
	var of []awsapi.Rule
	for _, elt := range cl.Elts {
		if call, ok := elt.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "Size") {
				switch sel.Sel.Name {
				case "SizeAtMost":
					c.MaxItems = intOr(r.int(call.Args[0]))
				case "SizeAtLeast":
					c.MinItems = intOr(r.int(call.Args[0]))
				case "SizeBetween":
					c.MinItems, c.MaxItems = intOr(r.int(call.Args[0])), intOr(r.int(call.Args[1]))
				}
				continue
			}
		}
		of = append(of, *r.rule(elt))
	}
	if len(of) == 0 {
		return nil
	}
	return all(of)
}

func intOr(n *int64) int {
	if n == nil {
		return 0
	}
	return int(*n)
}

// paths reads a list of attribute paths ([]string{"name_prefix"}), list indexes dropped
// ("default_action.0.forward" → "default_action.forward").
func (t *tree) paths(p *pkg, e ast.Expr) []string {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	var out []string
	for _, elt := range cl.Elts {
		s := t.stringValue(p, elt)
		if s == "" {
			continue
		}
		var parts []string
		for _, part := range strings.Split(s, ".") {
			if _, err := strconv.Atoi(part); err != nil {
				parts = append(parts, part)
			}
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

// schemaLiteral finds the composite literal an attribute's value is: written inline, taken
// the address of, or returned by a package function.
func schemaLiteral(p *pkg, e ast.Expr, depth int) *ast.CompositeLit {
	if depth > 4 {
		return nil
	}
	switch e := e.(type) {
	case *ast.CompositeLit:
		return e
	case *ast.UnaryExpr:
		return schemaLiteral(p, e.X, depth+1)
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok {
			if fd, ok := p.funcs[id.Name]; ok && fd.Body != nil {
				for _, st := range fd.Body.List {
					if ret, ok := st.(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
						return schemaLiteral(p, ret.Results[0], depth+1)
					}
				}
			}
		}
	}
	return nil
}

// schemaMaps finds the schema map literals an expression holds or leads to: the map itself, the
// Schema/Attributes/Blocks of a nested resource or block, or what a package function returns.
func (t *tree) schemaMaps(p *pkg, e ast.Node, depth int) []*ast.CompositeLit {
	if depth > 8 || e == nil {
		return nil
	}
	var out []*ast.CompositeLit
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit:
			if _, ok := n.Type.(*ast.MapType); ok {
				out = append(out, n)
				return false
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok {
				switch k.Name {
				case "Schema", "SchemaFunc", "Attributes", "Blocks", "Elem", "NestedObject":
					out = append(out, t.schemaMaps(p, n.Value, depth+1)...)
				}
			}
			return false
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok {
				if fd, ok := p.funcs[id.Name]; ok && fd.Body != nil {
					out = append(out, t.returned(p, fd.Body, depth+1)...)
				}
			}
		case *ast.Ident:
			if fd, ok := p.funcs[n.Name]; ok && fd.Body != nil {
				out = append(out, t.returned(p, fd.Body, depth+1)...)
			}
			if v, ok := p.vars[n.Name]; ok {
				out = append(out, t.schemaMaps(p, v, depth+1)...)
			}
		case *ast.FuncLit:
			out = append(out, t.returned(p, n.Body, depth+1)...)
			return false
		case *ast.BlockStmt: // a framework Schema method: response.Schema = schema.Schema{...}
			ast.Inspect(n, func(x ast.Node) bool {
				if as, ok := x.(*ast.AssignStmt); ok {
					for _, rhs := range as.Rhs {
						if cl, ok := rhs.(*ast.CompositeLit); ok {
							ast.Inspect(cl, visit)
						}
					}
					return false
				}
				return true
			})
			return false
		}
		return true
	}
	ast.Inspect(e, visit)
	return out
}

// returned finds the schema maps in a function's return statements.
func (t *tree) returned(p *pkg, body *ast.BlockStmt, depth int) []*ast.CompositeLit {
	var out []*ast.CompositeLit
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			for _, r := range n.Results {
				out = append(out, t.schemaMaps(p, r, depth)...)
			}
		}
		return true
	})
	return out
}

// stringValue resolves a map key: a string literal, a package constant, or names.AttrX.
func (t *tree) stringValue(p *pkg, e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		if err == nil {
			return s
		}
	case *ast.Ident:
		return p.consts[e.Name]
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "names" {
			if np, err := t.load("names"); err == nil {
				if v, ok := np.consts[e.Sel.Name]; ok {
					return v
				}
			}
			// A file newer than the checkout's names package: the provider spells every
			// names.AttrX constant as X in snake case (attr_consts_gen.go), so spell it here.
			if rest, ok := strings.CutPrefix(e.Sel.Name, "Attr"); ok {
				t.spelled[e.Sel.Name] = true
				return attrSpelling(rest)
			}
		}
	}
	return ""
}

// attrSpelling turns a constant's name into the attribute it stands for, initialisms kept whole:
// KMSKeyARN → kms_key_arn, AccountID → account_id.
func attrSpelling(name string) string {
	var words []string
	start := 0
	upper := func(i int) bool { return name[i] >= 'A' && name[i] <= 'Z' }
	for i := 1; i < len(name); i++ {
		lowerBefore := !upper(i - 1)
		nextLower := i+1 < len(name) && !upper(i+1) && !isDigit(name[i+1])
		if upper(i) && (lowerBefore || nextLower) {
			words = append(words, name[start:i])
			start = i
		}
	}
	words = append(words, name[start:])
	return strings.ToLower(strings.Join(words, "_"))
}
