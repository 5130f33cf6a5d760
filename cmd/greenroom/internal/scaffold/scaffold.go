package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"

	"golang.org/x/mod/modfile"
)

// PluginOptions describe a new plugin package.
type PluginOptions struct {
	// ID is the plugin id, such as "demo" or "tech-radar": lowercase
	// letters and digits in words separated by single dashes, starting
	// with a letter.
	ID string
	// Dir is the directory of the new package, relative to WorkDir or
	// absolute. Empty means "plugins/<id>".
	Dir string
	// WorkDir is the directory the command runs in, inside a Go module
	// (a go.mod in it or a parent). Empty means the current directory.
	WorkDir string
}

// ModuleOptions describe a new module of a plugin.
type ModuleOptions struct {
	// PluginID is the id of the plugin the module extends.
	PluginID string
	// ID is the module id, with the same rules as a plugin id.
	ID string
	// Dir is the directory of the new package, relative to WorkDir or
	// absolute. Empty means "plugins/<plugin>-module-<id>".
	Dir string
	// WorkDir is as in PluginOptions.
	WorkDir string
}

//go:embed templates
var templates embed.FS

// data is what the templates see.
type data struct {
	ID         string // the plugin id (plugin templates)
	Package    string // the Go package name of the new package
	Ident      string // the name the generated files that import the new package give it
	Import     string // the import spec of the new package: Ident, when it differs from the path's last element, and the quoted path
	ImportPath string // the import path of the new package
	Table      string // the items table (plugin templates)

	PluginID      string // module templates
	ModuleID      string // module templates
	PluginPackage string // the package name a plugin of PluginID gets
	PluginIdent   string // the name importers give a plugin of PluginID
}

// file is one file to write: a template and where its output goes,
// relative to the new package's directory.
type file struct {
	tmpl, dest string
}

// Plugin writes a new plugin package and returns the paths of the files it
// created, relative to WorkDir. It writes nothing when any file exists.
func Plugin(opts PluginOptions) ([]string, error) {
	if err := checkID("plugin", opts.ID); err != nil {
		return nil, err
	}
	if len(opts.ID) > MaxPluginIDLen {
		return nil, fmt.Errorf("plugin id %q is %d characters long: the generated table index %s_items_owner would exceed the 63-character identifier limit of PostgreSQL and MySQL; use an id of at most %d characters", opts.ID, len(opts.ID), strings.ReplaceAll(opts.ID, "-", "_"), MaxPluginIDLen)
	}
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Join("plugins", opts.ID)
	}
	t, err := locate(opts.WorkDir, dir)
	if err != nil {
		return nil, fmt.Errorf("new plugin %s: %w", opts.ID, err)
	}
	reserved, err := reservedNames()
	if err != nil {
		return nil, fmt.Errorf("new plugin %s: %w", opts.ID, err)
	}
	table := strings.ReplaceAll(opts.ID, "-", "_") + "_items"
	pkg := packageName(opts.ID)
	ident := importName(pkg, reserved)
	d := data{ID: opts.ID, Package: pkg, Ident: ident, Import: importSpec(ident, t.importPath), ImportPath: t.importPath, Table: table}
	migration := "00001_create_" + table + ".sql"
	files := []file{
		{"plugin/doc.go.tmpl", "doc.go"},
		{"plugin/plugin.go.tmpl", "plugin.go"},
		{"plugin/plugin_test.go.tmpl", "plugin_test.go"},
		{"plugin/example_test.go.tmpl", "example_test.go"},
		{"plugin/migration_sqlite.sql.tmpl", path.Join("migrations", "sqlite", migration)},
		{"plugin/migration_postgres.sql.tmpl", path.Join("migrations", "postgres", migration)},
		{"plugin/migration_mysql.sql.tmpl", path.Join("migrations", "mysql", migration)},
	}
	created, err := t.write(files, d)
	if err != nil {
		return nil, fmt.Errorf("new plugin %s: %w", opts.ID, err)
	}
	return created, nil
}

// Module writes a new module package and returns the paths of the files it
// created, relative to WorkDir. It writes nothing when any file exists.
func Module(opts ModuleOptions) ([]string, error) {
	if err := errors.Join(checkID("plugin", opts.PluginID), checkID("module", opts.ID)); err != nil {
		return nil, err
	}
	dirID := opts.PluginID + "-module-" + opts.ID
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Join("plugins", dirID)
	}
	t, err := locate(opts.WorkDir, dir)
	if err != nil {
		return nil, fmt.Errorf("new module %s of plugin %s: %w", opts.ID, opts.PluginID, err)
	}
	reserved, err := reservedNames()
	if err != nil {
		return nil, fmt.Errorf("new module %s of plugin %s: %w", opts.ID, opts.PluginID, err)
	}
	pkg := packageName(dirID)
	ident := importName(pkg, reserved)
	pluginPkg := packageName(opts.PluginID)
	d := data{
		Package:       pkg,
		Ident:         ident,
		Import:        importSpec(ident, t.importPath),
		ImportPath:    t.importPath,
		PluginID:      opts.PluginID,
		ModuleID:      opts.ID,
		PluginPackage: pluginPkg,
		PluginIdent:   importName(pluginPkg, reserved),
	}
	files := []file{
		{"module/doc.go.tmpl", "doc.go"},
		{"module/module.go.tmpl", "module.go"},
		{"module/module_test.go.tmpl", "module_test.go"},
		{"module/example_test.go.tmpl", "example_test.go"},
	}
	created, err := t.write(files, d)
	if err != nil {
		return nil, fmt.Errorf("new module %s of plugin %s: %w", opts.ID, opts.PluginID, err)
	}
	return created, nil
}

// checkID returns an error unless id is a valid plugin or module id:
// ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, the rule of package backend.
func checkID(kind, id string) error {
	if validID(id) {
		return nil
	}
	return fmt.Errorf("invalid %s id %q: use lowercase letters and digits in words separated by single dashes, starting with a letter, such as \"demo\" or \"tech-radar\"", kind, id)
}

// validID reports whether id matches ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, as
// backend's validID does.
func validID(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' || id[len(id)-1] == '-' {
		return false
	}
	for i := 1; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && id[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// MaxPluginIDLen is the longest plugin id Plugin accepts: the index of the
// generated items table, <id>_items_owner with dashes as underscores, must
// fit the 63-character identifiers of PostgreSQL (MySQL allows 64).
const MaxPluginIDLen = 63 - len("_items_owner")

// packageName is the Go package name of a valid id: the id without its
// dashes ("tech-radar" is package techradar), with the suffix "plugin" when
// that is a Go keyword or "main", which cannot name an importable package
// ("func" is package funcplugin).
func packageName(id string) string {
	name := strings.ReplaceAll(id, "-", "")
	if token.IsKeyword(name) || name == "main" {
		name += "plugin"
	}
	return name
}

// importName returns the name the generated files that import package pkg
// give it: pkg itself, unless that is a predeclared identifier or a name the
// generated files use (an imported package such as testing or backend, a
// local variable such as t), where it would be shadowed or redeclared; then
// pkg with the suffix "plugin" ("testing" is imported as testingplugin).
func importName(pkg string, reserved map[string]bool) string {
	for reserved[pkg] {
		pkg += "plugin"
	}
	return pkg
}

// importSpec is the import spec of importPath under the name ident: with
// an explicit name when ident differs from the path's last element.
func importSpec(ident, importPath string) string {
	if ident == path.Base(importPath) {
		return strconv.Quote(importPath)
	}
	return ident + " " + strconv.Quote(importPath)
}

// probe is the package name reservedNames renders the templates with.
const probe = "zzgreenroomprobe"

// reservedNames returns the names that a package imported by the generated
// files must not have: Go's predeclared identifiers and every identifier
// that appears in the Go templates (rendered with a probe name), which
// includes the imported packages and the local names.
func reservedNames() (map[string]bool, error) {
	reserved := make(map[string]bool)
	for _, name := range types.Universe.Names() {
		reserved[name] = true
	}
	d := data{
		ID: probe, Package: probe, Ident: probe, Import: strconv.Quote("example.com/" + probe), ImportPath: "example.com/" + probe,
		Table: probe + "_items", PluginID: probe, ModuleID: probe, PluginPackage: probe, PluginIdent: probe,
	}
	err := fs.WalkDir(templates, "templates", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go.tmpl") {
			return err
		}
		src, err := render(strings.TrimPrefix(p, "templates/"), d)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && !strings.Contains(id.Name, probe) {
				reserved[id.Name] = true
			}
			return true
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the templates: %w", err)
	}
	return reserved, nil
}

// target is the directory of a new package inside a Go module.
type target struct {
	workDir    string // absolute
	dir        string // absolute
	importPath string
}

// locate finds the Go module enclosing workDir (empty: the current
// directory) and the import path of dir (relative to workDir or absolute),
// which must be inside that module.
func locate(workDir, dir string) (target, error) {
	if workDir == "" {
		workDir = "."
	}
	workDir, err := filepath.Abs(workDir)
	if err != nil {
		return target{}, err
	}
	root, modPath, err := findModule(workDir)
	if err != nil {
		return target{}, err
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(workDir, dir)
	}
	dir = filepath.Clean(dir)
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return target{}, fmt.Errorf("directory %s is outside the Go module %s (%s); choose a --dir inside it", dir, modPath, root)
	}
	if err := checkInside(root, modPath, dir); err != nil {
		return target{}, err
	}
	importPath := modPath
	if rel != "." {
		importPath = path.Join(modPath, filepath.ToSlash(rel))
	}
	return target{workDir: workDir, dir: dir, importPath: importPath}, nil
}

// checkInside returns an error when dir, inside the module's root
// lexically, is not a directory to write a package into: its nearest
// existing ancestor (or itself) is a file, or a symbolic link on the way
// leads outside the module, where the files would not be part of it.
func checkInside(root, modPath, dir string) error {
	existing := dir
	for {
		fi, err := os.Stat(existing)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is a file, not a directory; choose a --dir that is a directory or does not exist yet", existing)
			}
			break
		}
		// ENOTDIR (a file on the way) is found on the way up.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		existing = filepath.Dir(existing)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	realExisting, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(realRoot, realExisting); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("directory %s leads through a symbolic link to %s, outside the Go module %s (%s); choose a --dir inside it", existing, realExisting, modPath, root)
	}
	return nil
}

// findModule returns the directory and the module path of the go.mod in dir
// or its nearest parent.
func findModule(dir string) (root, modPath string, err error) {
	for d := dir; ; {
		gomod := filepath.Join(d, "go.mod")
		b, err := os.ReadFile(gomod)
		switch {
		case err == nil:
			p := modfile.ModulePath(b)
			if p == "" {
				return "", "", fmt.Errorf("%s has no module line; fix it or run `go mod init <module path>` again", gomod)
			}
			return d, p, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", "", fmt.Errorf("read %s: %w", gomod, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("no go.mod in %s or any parent directory: the new package goes into an existing Go module; run `go mod init <module path>` first (such as `go mod init example.com/backend`)", dir)
		}
		d = parent
	}
}

// write renders files with d into t.dir and returns their paths relative to
// t.workDir. When any of them exists it writes nothing; when writing one
// fails it removes the files and directories it created.
func (t target) write(files []file, d data) ([]string, error) {
	contents := make([][]byte, len(files))
	var existing []string
	for i, f := range files {
		b, err := render(f.tmpl, d)
		if err != nil {
			return nil, err
		}
		contents[i] = b
		dest := filepath.Join(t.dir, filepath.FromSlash(f.dest))
		// Other errors than "exists" (a file where a directory goes, say)
		// surface when writing, which then removes what it wrote.
		if _, err := os.Lstat(dest); err == nil {
			existing = append(existing, t.rel(dest))
		}
	}
	if len(existing) > 0 {
		return nil, fmt.Errorf("refusing to overwrite %s; remove them or choose another --dir (nothing was written)", strings.Join(existing, ", "))
	}

	var created []string // absolute paths of the files and directories created, in order
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i])
		}
	}
	var paths []string
	for i, f := range files {
		dest := filepath.Join(t.dir, filepath.FromSlash(f.dest))
		dirs, err := mkdirAll(filepath.Dir(dest))
		created = append(created, dirs...)
		if err != nil {
			undo()
			return nil, err
		}
		// O_EXCL: a file that appeared since the check is not overwritten.
		fh, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			undo()
			return nil, fmt.Errorf("%w (nothing was written)", err)
		}
		created = append(created, dest)
		_, err = fh.Write(contents[i])
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			undo()
			return nil, fmt.Errorf("write %s: %w (nothing was written)", dest, err)
		}
		paths = append(paths, t.rel(dest))
	}
	return paths, nil
}

// rel returns p relative to the work directory when it is inside it, and
// p otherwise.
func (t target) rel(p string) string {
	r, err := filepath.Rel(t.workDir, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return p
	}
	return r
}

// mkdirAll creates dir and its missing parents and returns the directories
// it created, outermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return created, fmt.Errorf("create directory %s: %w (nothing was written)", missing[i], err)
		} else if err == nil {
			created = append(created, missing[i])
		}
	}
	return created, nil
}

// render executes the template name with d and formats Go output.
func render(name string, d data) ([]byte, error) {
	tmpl, err := template.New(path.Base(name)).Option("missingkey=error").ParseFS(templates, "templates/"+name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	if !strings.HasSuffix(name, ".go.tmpl") {
		return buf.Bytes(), nil
	}
	b, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("template %s: the output is not valid Go: %w", name, err)
	}
	return b, nil
}
