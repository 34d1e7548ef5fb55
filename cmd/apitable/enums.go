package main

import (
	"go/ast"
)

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
