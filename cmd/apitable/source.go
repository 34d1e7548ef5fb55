package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// providerModule is the provider's Go module path; its service packages live under internal/service.
const providerModule = "github.com/hashicorp/terraform-provider-aws"

// tree is a provider checkout, optionally with an overlay of files read at another revision
// that replace (or add to) the checkout's.
type tree struct {
	root, overlay string
	fset          *token.FileSet
	pkgs          map[string]*pkg // by directory relative to root, e.g. internal/service/elbv2
	// used records every file a derivation read, relative to root.
	used map[string]bool
	// unresolved records calls to package functions no file declares: a sign of files from
	// mismatched revisions, or of a file not read.
	unresolved map[string][]string
	// spelled records names.AttrX constants no file declares, spelled from their names.
	spelled map[string]bool
	// mods finds the provider's dependencies (nil: none are read).
	mods *modules
}

// pkg is one parsed Go package of the provider.
type pkg struct {
	dir     string
	files   []*file
	funcs   map[string]*ast.FuncDecl            // package-level functions by name
	methods map[string]map[string]*ast.FuncDecl // receiver type → method name → declaration
	types   map[string]*ast.TypeSpec
	consts  map[string]string   // string constants by name
	ints    map[string]int64    // integer constants by name
	vars    map[string]ast.Expr // package-level variables' initial values
	// declared holds every other package-level name (variables without a value, constants of any type).
	declared map[string]bool
	// fileOf finds the file a declaration is in.
	fileOf map[ast.Node]*file
}

// file is one parsed source file with its imports.
type file struct {
	path    string // relative to the tree root
	ast     *ast.File
	imports map[string]string // local name → import path
}

func newTree(root, overlay string) *tree {
	return &tree{root: root, overlay: overlay, fset: token.NewFileSet(), pkgs: map[string]*pkg{}, used: map[string]bool{}, unresolved: map[string][]string{}, spelled: map[string]bool{}}
}

// load parses the non-test Go files of one package directory of the provider, the overlay's
// version of a file winning over the checkout's.
func (t *tree) load(dir string) (*pkg, error) {
	if p, ok := t.pkgs[dir]; ok {
		return p, nil
	}
	var bases []string
	for _, base := range []string{t.root, t.overlay} {
		if base != "" {
			bases = append(bases, filepath.Join(base, dir))
		}
	}
	p, err := t.parse(dir, bases)
	if err != nil {
		return nil, err
	}
	t.pkgs[dir] = p
	return p, nil
}

// imported returns the package an import path names: one of the provider's, or one of its
// dependencies at the version its go.mod pins.
func (t *tree) imported(path string) (*pkg, bool) {
	if rel, ok := strings.CutPrefix(path, providerModule+"/"); ok {
		p, err := t.load(rel)
		return p, err == nil
	}
	if p, ok := t.pkgs[path]; ok {
		return p, p != nil
	}
	dir, ok := t.mods.dir(path)
	if !ok {
		t.pkgs[path] = nil
		return nil, false
	}
	p, err := t.parse(path, []string{dir})
	if err != nil {
		t.pkgs[path] = nil
		return nil, false
	}
	t.pkgs[path] = p
	return p, true
}

// parse reads the Go files of the given directories (a later directory's file of the same name
// replaces an earlier one's) into one package.
func (t *tree) parse(key string, dirs []string) (*pkg, error) {
	names := map[string]string{} // file name → full path
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			names[n] = filepath.Join(d, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no Go files in %s", key)
	}
	p := &pkg{dir: key, funcs: map[string]*ast.FuncDecl{}, methods: map[string]map[string]*ast.FuncDecl{},
		types: map[string]*ast.TypeSpec{}, consts: map[string]string{}, ints: map[string]int64{}, vars: map[string]ast.Expr{}, declared: map[string]bool{}, fileOf: map[ast.Node]*file{}}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		f, err := parser.ParseFile(t.fset, names[n], nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", names[n], err)
		}
		pf := &file{path: filepath.ToSlash(filepath.Join(key, n)), ast: f, imports: imports(f)}
		p.files = append(p.files, pf)
		p.index(pf)
	}
	return p, nil
}

// index records a file's declarations in the package.
func (p *pkg) index(pf *file) {
	for _, d := range pf.ast.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			p.fileOf[d] = pf
			if d.Recv == nil {
				p.funcs[d.Name.Name] = d
				continue
			}
			recv := receiverType(d)
			if p.methods[recv] == nil {
				p.methods[recv] = map[string]*ast.FuncDecl{}
			}
			p.methods[recv][d.Name.Name] = d
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					p.types[s.Name.Name] = s
					p.fileOf[s] = pf
				case *ast.ValueSpec:
					for i, n := range s.Names {
						p.declared[n.Name] = true
						if i >= len(s.Values) {
							continue
						}
						if d.Tok == token.VAR {
							p.vars[n.Name] = s.Values[i]
						}
						if lit, ok := s.Values[i].(*ast.BasicLit); ok {
							switch lit.Kind {
							case token.STRING:
								p.consts[n.Name], _ = strconv.Unquote(lit.Value)
							case token.INT:
								if v, err := strconv.ParseInt(lit.Value, 0, 64); err == nil {
									p.ints[n.Name] = v
								}
							}
						}
					}
				}
			}
		}
	}
}

// overlaid reports whether the file at a path relative to the root comes from the overlay.
func (t *tree) overlaid(path string) bool {
	if t.overlay == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(t.overlay, path))
	return err == nil
}

// imports maps each import's local name to its path.
func imports(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		out[name] = path
	}
	return out
}

// receiverType is the type name of a method's receiver, without the pointer.
func receiverType(d *ast.FuncDecl) string {
	e := d.Recv.List[0].Type
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if ix, ok := e.(*ast.IndexExpr); ok {
		e = ix.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// servicePackages lists the provider's service package directories.
func (t *tree) servicePackages() ([]string, error) {
	seen := map[string]bool{}
	for _, base := range []string{t.root, t.overlay} {
		if base == "" {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(base, "internal", "service"))
		if os.IsNotExist(err) && base == t.overlay {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				seen["internal/service/"+e.Name()] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}
