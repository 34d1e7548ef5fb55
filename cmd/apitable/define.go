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

// tagNodes are the service package's tag methods the tagging interceptor calls: ListTags on
// read, UpdateTags on create and update.
func tagNodes(p *pkg, method, resourceType string) []node {
	if m, ok := p.methods["servicePackage"][method]; ok {
		return []node{{pkg: p, decl: m, body: m.Body, resourceType: resourceType}}
	}
	return nil
}
