package main

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"maps"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/cover"
)

// htmlFile is one source file of the HTML report.
type htmlFile struct {
	Name    string
	ID      string
	Percent float64
	Source  template.HTML // the annotated source, or a note why it is missing
	Missing bool
}

// writeHTMLReport writes the self-contained HTML report of rep to file:
// the table and every file's source colored by coverage, like go tool
// cover -html. Source files are found with go list, or else as paths
// relative to the working directory.
func writeHTMLReport(ctx context.Context, file, profile string, rep coverReport, profiles []*cover.Profile) error {
	var pkgs []string
	for _, p := range rep.Packages {
		pkgs = append(pkgs, p.Package)
	}
	// The packages of the working directory's module, then those of the
	// module the profile was written in (go test -coverprofile=cover.out
	// at its root).
	dirs := packageDirs(ctx, "", pkgs)
	pkgs = slices.DeleteFunc(pkgs, func(p string) bool { _, ok := dirs[p]; return ok })
	maps.Copy(dirs, packageDirs(ctx, filepath.Dir(profile), pkgs))
	var files []htmlFile
	for i, p := range slices.SortedFunc(slices.Values(profiles), func(a, b *cover.Profile) int { return strings.Compare(a.FileName, b.FileName) }) {
		var c coverCount
		c.add(p)
		f := htmlFile{Name: p.FileName, ID: fmt.Sprintf("file%d", i), Percent: c.percent()}
		src, err := readSource(p.FileName, dirs)
		if err != nil {
			f.Missing = true
			f.Source = template.HTML(template.HTMLEscapeString(fmt.Sprintf("source not found: %v", err)))
		} else {
			f.Source = annotate(src, p.Boundaries(src))
		}
		files = append(files, f)
	}
	var buf bytes.Buffer
	err := htmlReport.Execute(&buf, struct {
		Report coverReport
		Files  []htmlFile
	}{rep, files})
	if err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

// packageDirs asks go list, run in dir, for the directories of pkgs.
// Packages it does not find are left out.
func packageDirs(ctx context.Context, dir string, pkgs []string) map[string]string {
	dirs := make(map[string]string)
	if len(pkgs) == 0 {
		return dirs
	}
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Dir}}"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return dirs
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if pkg, dir, ok := strings.Cut(line, "\t"); ok && dir != "" {
			dirs[pkg] = dir
		}
	}
	return dirs
}

// readSource reads the file of a profile: in its package's directory, or
// as a path relative to the working directory.
func readSource(name string, dirs map[string]string) ([]byte, error) {
	if dir, ok := dirs[path.Dir(name)]; ok {
		if src, err := os.ReadFile(filepath.Join(dir, path.Base(name))); err == nil {
			return src, nil
		}
	}
	return os.ReadFile(filepath.FromSlash(name))
}

// annotate returns src as HTML with the blocks of boundaries in spans of
// the classes cov0 (not run) to cov10 (run the most).
func annotate(src []byte, boundaries []cover.Boundary) template.HTML {
	var b strings.Builder
	for i := range src {
		for len(boundaries) > 0 && boundaries[0].Offset == i {
			bd := boundaries[0]
			if bd.Start {
				n := 0
				if bd.Count > 0 {
					n = int(math.Floor(bd.Norm*9)) + 1
				}
				fmt.Fprintf(&b, `<span class="cov%d" title="%d">`, n, bd.Count)
			} else {
				b.WriteString("</span>")
			}
			boundaries = boundaries[1:]
		}
		switch c := src[i]; c {
		case '>':
			b.WriteString("&gt;")
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\t':
			b.WriteString("    ")
		default:
			b.WriteByte(c)
		}
	}
	for range boundaries { // blocks that end at the end of the file
		b.WriteString("</span>")
	}
	return template.HTML(b.String()) //nolint:gosec // every byte of src is escaped above
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(c coverCount) string { return fmt.Sprintf("%.1f%%", c.percent()) },
	"threshold": func(p pkgCoverage) string {
		if p.Source == "" {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", p.Threshold)
	},
	"stmts":   func(c coverCount) int64 { return c.statements },
	"covered": func(c coverCount) int64 { return c.covered },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Coverage report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: .2em .8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.fail td { background: #fde8e8; }
tr.total td { font-weight: bold; }
pre { background: #111; color: #888; padding: 1em; overflow-x: auto; line-height: 1.3; }
h2 { font-size: 1em; margin-top: 2em; }
.cov0 { color: #f66; } .cov1 { color: #8a8; } .cov2 { color: #9b9; } .cov3 { color: #9c9; }
.cov4 { color: #8d8; } .cov5 { color: #7d7; } .cov6 { color: #6e6; } .cov7 { color: #5e5; }
.cov8 { color: #4f4; } .cov9 { color: #3f3; } .cov10 { color: #2f2; }
</style>
</head>
<body>
<h1>Coverage report</h1>
<p>Statements in <span class="cov0" style="background:#111;padding:0 .3em">red</span> never ran; green ones ran, brighter more often.</p>
<table>
<tr><th>Package</th><th>Statements</th><th>Covered</th><th>Percent</th><th>Threshold</th><th>Result</th></tr>
{{range .Report.Packages}}<tr{{if not .Ok}} class="fail"{{end}}><td>{{.Package}}</td><td>{{stmts .Count}}</td><td>{{covered .Count}}</td><td>{{pct .Count}}</td><td>{{threshold .}}</td><td>{{if .Ok}}OK{{else}}FAIL{{end}}</td></tr>
{{end}}{{with .Report.Total}}<tr class="total{{if not .Ok}} fail{{end}}"><td>total</td><td>{{stmts .Count}}</td><td>{{covered .Count}}</td><td>{{pct .Count}}</td><td>{{threshold .}}</td><td>{{if .Ok}}OK{{else}}FAIL{{end}}</td></tr>{{end}}
</table>
<h2>Files</h2>
<ul>
{{range .Files}}<li><a href="#{{.ID}}">{{.Name}}</a> ({{printf "%.1f" .Percent}}%)</li>
{{end}}</ul>
{{range .Files}}<h2 id="{{.ID}}">{{.Name}} ({{printf "%.1f" .Percent}}%)</h2>
<pre>{{.Source}}</pre>
{{end}}
</body>
</html>
`))
