package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// definition is where the provider implements one resource type or data source.
type definition struct {
	name       string // aws_lb_listener
	dataSource bool
	pkg        *pkg
	file       *file
	tagged     bool
	tagsType   string            // the resourceType="..." of the @Tags annotation
	entries    map[string][]node // phase → the handlers that start it
	schema     ast.Node          // the schema literal (SDK) or the Schema method body (framework)
	typeSet    []string          // framework: the resource type and the types it embeds
}

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

var (
	sdkAnnotation       = regexp.MustCompile(`@SDK(Resource|DataSource)\("(aws_[a-z0-9_]+)"`)
	frameworkAnnotation = regexp.MustCompile(`@Framework(Resource|DataSource)\("(aws_[a-z0-9_]+)"`)
	tagsAnnotation      = regexp.MustCompile(`@Tags\(`)
	tagsResourceType    = regexp.MustCompile(`@Tags\([^)]*resourceType="(\w+)"`)
)

// find locates the definition of a resource type or data source in the packages given.
func (t *tree) find(name string, dataSource bool, dirs []string) (*definition, error) {
	kind := "Resource"
	if dataSource {
		kind = "DataSource"
	}
	for _, dir := range dirs {
		p, err := t.load(dir)
		if err != nil {
			return nil, err
		}
		for _, f := range p.files {
			for _, d := range f.ast.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					continue
				}
				if def := t.fromAnnotation(p, f, fd, name, kind); def != nil {
					return def, nil
				}
				if def := t.fromMetadata(p, f, fd, name, dataSource); def != nil {
					return def, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("%s %s: no definition found", strings.ToLower(kind), name)
}

// fromAnnotation recognises a function annotated @SDKResource("name") or
// @FrameworkResource("name") (likewise DataSource).
func (t *tree) fromAnnotation(p *pkg, f *file, fd *ast.FuncDecl, name, kind string) *definition {
	if fd.Doc == nil || fd.Recv != nil {
		return nil
	}
	doc := fd.Doc.Text()
	for _, m := range sdkAnnotation.FindAllStringSubmatch(doc, -1) {
		if m[1] == kind && m[2] == name {
			def := &definition{name: name, dataSource: kind == "DataSource", pkg: p, file: f, tagged: tagsAnnotation.MatchString(doc)}
			if m := tagsResourceType.FindStringSubmatch(doc); m != nil {
				def.tagsType = m[1]
			}
			def.entries, def.schema = sdkEntries(p, fd)
			return def
		}
	}
	for _, m := range frameworkAnnotation.FindAllStringSubmatch(doc, -1) {
		if m[1] == kind && m[2] == name {
			typ := constructedType(fd)
			if typ == "" {
				return nil
			}
			return frameworkDefinition(p, f, name, kind == "DataSource", typ, tagsAnnotation.MatchString(doc))
		}
	}
	return nil
}

// fromMetadata recognises a framework type whose Metadata method sets TypeName = "name" (the
// form before framework annotations named their type).
func (t *tree) fromMetadata(p *pkg, f *file, fd *ast.FuncDecl, name string, dataSource bool) *definition {
	if fd.Recv == nil || fd.Name.Name != "Metadata" || fd.Body == nil {
		return nil
	}
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return true
		}
		if sel, ok := as.Lhs[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "TypeName" {
			if lit, ok := as.Rhs[0].(*ast.BasicLit); ok && lit.Value == strconv.Quote(name) {
				found = true
			}
		}
		return true
	})
	if !found {
		return nil
	}
	isDS := false
	if len(fd.Type.Params.List) > 1 {
		if sel, ok := fd.Type.Params.List[1].Type.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				isDS = x.Name == "datasource"
			}
		}
	}
	if isDS != dataSource {
		return nil
	}
	typ := receiverType(fd)
	tagged := false
	for _, other := range p.funcs { // the constructor carries the @Tags annotation
		if other.Doc != nil && constructedType(other) == typ && tagsAnnotation.MatchString(other.Doc.Text()) {
			tagged = true
		}
	}
	return frameworkDefinition(p, f, name, dataSource, typ, tagged)
}

// constructedType is the type a framework constructor returns a pointer to (&fooResource{}).
func constructedType(fd *ast.FuncDecl) string {
	typ := ""
	if fd.Body == nil {
		return ""
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if typ != "" {
			return false
		}
		if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.AND {
			if cl, ok := u.X.(*ast.CompositeLit); ok {
				if id, ok := cl.Type.(*ast.Ident); ok {
					typ = id.Name
				}
			}
		}
		return true
	})
	return typ
}

// sdkEntries reads the handlers and the schema out of the schema.Resource literal an SDK
// resource function returns.
func sdkEntries(p *pkg, fd *ast.FuncDecl) (map[string][]node, ast.Node) {
	entries := map[string][]node{}
	var schemaExpr ast.Node
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok || !isSelector(cl.Type, "schema", "Resource") || len(entries) > 0 {
			return true
		}
		for _, elt := range cl.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, _ := kv.Key.(*ast.Ident)
			if key == nil {
				continue
			}
			phase := ""
			switch key.Name {
			case "Create", "CreateContext", "CreateWithoutTimeout":
				phase = awsapi.Create
			case "Read", "ReadContext", "ReadWithoutTimeout":
				phase = awsapi.Read
			case "Update", "UpdateContext", "UpdateWithoutTimeout":
				phase = awsapi.Update
			case "Delete", "DeleteContext", "DeleteWithoutTimeout":
				phase = awsapi.Delete
			case "CustomizeDiff": // runs while planning, so a preview needs what it calls
				phase = awsapi.Plan
			case "Schema", "SchemaFunc":
				schemaExpr = kv.Value
				continue
			default:
				continue
			}
			entries[phase] = append(entries[phase], valueNodes(p, kv.Value)...)
		}
		return false
	})
	return entries, schemaExpr
}

// valueNodes turns a handler value into the bodies to walk: a named function, a literal, or
// the functions a wrapper call is handed (customdiff.Sequence(a, b)).
func valueNodes(p *pkg, e ast.Expr) []node {
	switch e := e.(type) {
	case *ast.Ident:
		if fd, ok := p.funcs[e.Name]; ok {
			return []node{{pkg: p, decl: fd, body: fd.Body}}
		}
	case *ast.FuncLit:
		return []node{{pkg: p, body: e.Body}}
	case *ast.CallExpr:
		// A wrapper or a function that returns the handler: walk the call as a literal body.
		return []node{{pkg: p, body: e}}
	}
	return nil
}

// frameworkDefinition collects the CRUD methods of a framework type and the types it embeds.
func frameworkDefinition(p *pkg, f *file, name string, dataSource bool, typ string, tagged bool) *definition {
	def := &definition{name: name, dataSource: dataSource, pkg: p, file: f, tagged: tagged, entries: map[string][]node{}}
	def.typeSet = typeSet(p, typ)
	for phase, method := range map[string]string{awsapi.Create: "Create", awsapi.Read: "Read", awsapi.Update: "Update", awsapi.Delete: "Delete", awsapi.Plan: "ModifyPlan"} {
		if dataSource && method != "Read" {
			continue
		}
		for _, ts := range def.typeSet {
			if m, ok := p.methods[ts][method]; ok {
				def.entries[phase] = append(def.entries[phase], node{pkg: p, decl: m, body: m.Body, typeSet: def.typeSet})
				break
			}
		}
		for _, ts := range def.typeSet {
			if m, ok := p.methods[ts]["Schema"]; ok && def.schema == nil {
				def.schema = m.Body
			}
		}
	}
	return def
}

// typeSet is a type and, transitively, the types of the package it embeds.
func typeSet(p *pkg, typ string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		ts, ok := p.types[name]
		if !ok {
			return
		}
		seen[name] = true
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return
		}
		for _, fld := range st.Fields.List {
			if len(fld.Names) > 0 {
				continue
			}
			e := fld.Type
			if s, ok := e.(*ast.StarExpr); ok {
				e = s.X
			}
			if ix, ok := e.(*ast.IndexExpr); ok {
				e = ix.X
			}
			if id, ok := e.(*ast.Ident); ok {
				visit(id.Name)
			}
		}
	}
	visit(typ)
	return slices.Sorted(maps.Keys(seen))
}

func isSelector(e ast.Expr, x, sel string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == x && s.Sel.Name == sel
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

// tagNodes are the service package's tag methods the tagging interceptor calls: ListTags on
// read, UpdateTags on create and update.
func tagNodes(p *pkg, method, resourceType string) []node {
	if m, ok := p.methods["servicePackage"][method]; ok {
		return []node{{pkg: p, decl: m, body: m.Body, resourceType: resourceType}}
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
