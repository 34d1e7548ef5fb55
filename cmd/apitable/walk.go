package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// node is one function or method body the walk visits.
type node struct {
	pkg     *pkg
	decl    *ast.FuncDecl // nil for a function literal
	body    ast.Node
	typeSet []string // method receivers to resolve x.M() calls against
	// resourceType is the @Tags resource type the tag helpers switch on, when known.
	resourceType string
}

func (n node) key() string {
	if n.decl == nil {
		return fmt.Sprintf("%s.<literal@%d>", n.pkg.dir, n.body.Pos())
	}
	if n.decl.Recv != nil {
		return n.pkg.dir + "." + receiverType(n.decl) + "." + n.decl.Name.Name
	}
	return n.pkg.dir + "." + n.decl.Name.Name
}

// op is one AWS SDK operation: the SDK's service package name and the operation.
type op struct{ service, name string }

func (o op) String() string { return o.service + "." + o.name }

var paginator = regexp.MustCompile(`^New(\w+)Paginator$`)

// walk follows every call reachable from the entry nodes and returns the SDK operations whose
// input types or paginators the reached code names.
func (t *tree) walk(entries []node) (map[op]bool, error) {
	ops := map[op]bool{}
	seen := map[string]bool{}
	queue := slices.Clone(entries)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n.key()+"|"+n.resourceType] || n.body == nil {
			continue
		}
		seen[n.key()+"|"+n.resourceType] = true
		next, err := t.visit(n, ops)
		if err != nil {
			return nil, err
		}
		queue = append(queue, next...)
	}
	return ops, nil
}

// visit walks one body: it records the operations it names and returns the bodies it leads to.
func (t *tree) visit(n node, ops map[op]bool) ([]node, error) {
	f := n.pkg.fileOf[n.decl]
	if n.decl == nil {
		f = n.pkg.fileContaining(n.body.Pos())
	}
	if f == nil {
		return nil, fmt.Errorf("%s: no file", n.key())
	}
	t.used[f.path] = true
	var (
		next []node
		err  error
	)
	skip := map[*ast.Ident]bool{} // selected names and struct keys: never a function of the package
	local := locals(n)
	var visit func(x ast.Node) bool
	visit = func(x ast.Node) bool {
		if err != nil {
			return false
		}
		switch x := x.(type) {
		case *ast.SwitchStmt:
			// The tag helpers switch on the resource type the @Tags annotation names: follow only
			// that case.
			if id, ok := x.Tag.(*ast.Ident); ok && id.Name == "resourceType" && n.resourceType != "" {
				for _, c := range x.Body.List {
					cc := c.(*ast.CaseClause)
					for _, e := range cc.List {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Value == strconv.Quote(n.resourceType) {
							for _, st := range cc.Body {
								ast.Inspect(st, visit)
							}
						}
					}
				}
				return false
			}
		case *ast.KeyValueExpr:
			if k, ok := x.Key.(*ast.Ident); ok {
				skip[k] = true
			}
		case *ast.SelectorExpr:
			skip[x.Sel] = true
			more, e := t.selector(n, f, x, ops)
			if e != nil {
				err = e
				return false
			}
			next = append(next, more...)
			if id, ok := x.X.(*ast.Ident); ok && f.imports[id.Name] != "" {
				return false // a package-qualified name: nothing below it to resolve
			}
		case *ast.CallExpr:
			id, ok := x.Fun.(*ast.Ident)
			if !ok || local[id.Name] {
				break
			}
			if fd, ok := n.pkg.funcs[id.Name]; ok {
				skip[id] = true
				next = append(next, node{pkg: n.pkg, decl: fd, body: fd.Body, resourceType: boundResourceType(fd, x, n.resourceType)})
			} else if !n.pkg.known(id.Name) {
				t.unresolved[n.pkg.dir+"."+id.Name] = append(t.unresolved[n.pkg.dir+"."+id.Name], n.key())
			}
		case *ast.Ident:
			if skip[x] || local[x.Name] {
				return true
			}
			if fd, ok := n.pkg.funcs[x.Name]; ok && fd != n.decl {
				next = append(next, node{pkg: n.pkg, decl: fd, body: fd.Body, resourceType: n.resourceType})
			}
		}
		return true
	}
	ast.Inspect(n.body, visit)
	return next, err
}

// boundResourceType is the resource type a call hands its callee: a string literal passed for a
// parameter named resourceType, else the caller's own.
func boundResourceType(fd *ast.FuncDecl, call *ast.CallExpr, inherited string) string {
	i := 0
	for _, field := range fd.Type.Params.List {
		for _, name := range field.Names {
			if name.Name == "resourceType" && i < len(call.Args) {
				if lit, ok := call.Args[i].(*ast.BasicLit); ok {
					if v, err := strconv.Unquote(lit.Value); err == nil {
						return v
					}
				}
			}
			i++
		}
	}
	return inherited
}

// selector resolves pkg.Name (an SDK input type or paginator, or another provider package's
// function) and x.Method (a method of the walked type set).
func (t *tree) selector(n node, f *file, x *ast.SelectorExpr, ops map[op]bool) ([]node, error) {
	id, ok := x.X.(*ast.Ident)
	if ok {
		if path, imported := f.imports[id.Name]; imported {
			if svc, ok := sdkService(path); ok {
				name := x.Sel.Name
				if m := paginator.FindStringSubmatch(name); m != nil {
					ops[op{svc, m[1]}] = true
				} else if strings.HasSuffix(name, "Input") && name != "Input" {
					ops[op{svc, strings.TrimSuffix(name, "Input")}] = true
				}
				return nil, nil
			}
			if rel, ok := strings.CutPrefix(path, providerModule+"/"); ok && strings.HasPrefix(rel, "internal/service/") {
				p, err := t.load(rel)
				if err != nil {
					return nil, err
				}
				if fd, ok := p.funcs[x.Sel.Name]; ok {
					return []node{{pkg: p, decl: fd, body: fd.Body}}, nil
				}
				if !p.known(x.Sel.Name) {
					t.unresolved[rel+"."+x.Sel.Name] = append(t.unresolved[rel+"."+x.Sel.Name], n.key())
				}
			}
			return nil, nil
		}
	}
	for _, ts := range n.typeSet {
		if m, ok := n.pkg.methods[ts][x.Sel.Name]; ok {
			return []node{{pkg: n.pkg, decl: m, body: m.Body, typeSet: n.typeSet}}, nil
		}
	}
	return nil, nil
}

// sdkService is the AWS SDK service package an import path names (v2 or v1), if it is one.
func sdkService(path string) (string, bool) {
	for _, prefix := range []string{"github.com/aws/aws-sdk-go-v2/service/", "github.com/aws/aws-sdk-go/service/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok && !strings.Contains(rest, "/") {
			return rest, true
		}
	}
	return "", false
}

// fileContaining is the package file a position is in.
func (p *pkg) fileContaining(pos token.Pos) *file {
	for _, f := range p.files {
		if f.ast.Pos() <= pos && pos <= f.ast.End() {
			return f
		}
	}
	return nil
}

// builtins are the predeclared functions and types a call may name.
var builtins = map[string]bool{
	"append": true, "cap": true, "clear": true, "close": true, "complex": true, "copy": true, "delete": true,
	"imag": true, "len": true, "make": true, "max": true, "min": true, "new": true, "panic": true, "print": true,
	"println": true, "real": true, "recover": true, "any": true, "bool": true, "byte": true, "error": true,
	"float32": true, "float64": true, "int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"rune": true, "string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true,
}

// known reports a name the package declares (function, type, variable or constant) or Go predeclares.
func (p *pkg) known(name string) bool {
	if builtins[name] {
		return true
	}
	_, f := p.funcs[name]
	_, ty := p.types[name]
	_, v := p.vars[name]
	_, c := p.consts[name]
	return f || ty || v || c || p.declared[name]
}

// locals are the names a function body (and its parameters) declares.
func locals(n node) map[string]bool {
	out := map[string]bool{}
	add := func(fl *ast.FieldList) {
		if fl == nil {
			return
		}
		for _, f := range fl.List {
			for _, id := range f.Names {
				out[id.Name] = true
			}
		}
	}
	if n.decl != nil {
		add(n.decl.Type.Params)
		add(n.decl.Type.TypeParams)
		add(n.decl.Type.Results)
		add(n.decl.Recv)
	}
	ast.Inspect(n.body, func(x ast.Node) bool {
		switch x := x.(type) {
		case *ast.AssignStmt:
			for _, l := range x.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					out[id.Name] = true
				}
			}
		case *ast.ValueSpec:
			for _, id := range x.Names {
				out[id.Name] = true
			}
		case *ast.FuncLit:
			add(x.Type.Params)
			add(x.Type.Results)
		case *ast.RangeStmt:
			if id, ok := x.Key.(*ast.Ident); ok {
				out[id.Name] = true
			}
			if id, ok := x.Value.(*ast.Ident); ok {
				out[id.Name] = true
			}
		case *ast.TypeSpec:
			out[x.Name.Name] = true
		}
		return true
	})
	return out
}
