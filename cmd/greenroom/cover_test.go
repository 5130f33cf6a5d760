package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realProfile runs go test -coverprofile on a tiny module with a covered
// and an uncovered function and returns the path of the profile, at the
// module's root.
func realProfile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":            "module example.com/tiny\n\ngo 1.21\n",
		"calc/calc.go":      "package calc\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n\nfunc Sub(a, b int) int {\n\tif a < b {\n\t\treturn b - a\n\t}\n\treturn a - b\n}\n",
		"calc/calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal(\"Add\")\n\t}\n}\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	profile := filepath.Join(dir, "cover.out")
	cmd := exec.Command("go", "test", "-covermode=atomic", "-coverprofile="+profile, "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -coverprofile: %v\n%s", err, out)
	}
	return profile
}

func TestCoverOnARealProfile(t *testing.T) {
	t.Parallel()
	profile := realProfile(t)
	// Add is covered (1 statement), Sub is not (3 statements): 25%.
	code, stdout, stderr := runCmd(t, "cover", "--min", "1", profile)
	if code != 0 {
		t.Fatalf("cover --min 1 = %d: %s", code, stderr)
	}
	for _, w := range []string{"PACKAGE", "example.com/tiny/calc", "total", "25.0%", "1.0%", "OK"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("table does not contain %q:\n%s", w, stdout)
		}
	}
	code, stdout, stderr = runCmd(t, "cover", "--min", "101", profile)
	if code != 1 || !strings.Contains(stdout, "FAIL") ||
		!strings.Contains(stderr, "greenroom cover: coverage below the threshold:\n  total: 25.0% is below 101.0% (--min)") {
		t.Errorf("cover --min 101 = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCmd(t, "cover", "--min", "10", "--package-min", "50", profile)
	if code != 1 || !strings.Contains(stderr, "  example.com/tiny/calc: 25.0% is below 50.0% (--package-min)") || strings.Contains(stderr, "total:") {
		t.Errorf("cover --package-min 50 = %d %s", code, stderr)
	}

	// The HTML report finds the sources through go list in the module
	// the profile was written in.
	out := filepath.Join(filepath.Dir(profile), "cover.html")
	code, _, stderr = runCmd(t, "cover", "--html", out, profile)
	if code != 0 || !strings.Contains(stderr, "Wrote the coverage report to "+out) {
		t.Fatalf("cover --html = %d %s", code, stderr)
	}
	page := string(mustRead(t, out))
	for _, w := range []string{"<!DOCTYPE html>", "<td>example.com/tiny/calc</td>", "example.com/tiny/calc/calc.go (25.0%)", `title="0">{`, "return b - a"} {
		if !strings.Contains(page, w) {
			t.Errorf("report does not contain %q:\n%s", w, page)
		}
	}
	if strings.Contains(page, "source not found") {
		t.Error("the report did not find the sources")
	}
}

func TestCoverHTMLAnnotatesSource(t *testing.T) {
	t.Parallel()
	// A profile whose file names are paths relative to the working
	// directory: the source is found and annotated.
	dir := t.TempDir()
	src := "package p\n\nfunc F(a int) bool {\n\treturn a < 1 && a > -1\n}\n\nfunc G() {\n\tprintln(\"<g>\")\n}\n"
	srcFile := filepath.Join(dir, "p.go")
	if err := os.WriteFile(srcFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "c.out")
	prof := "mode: set\n" + filepath.ToSlash(srcFile) + ":3.21,5.2 1 1\n" + filepath.ToSlash(srcFile) + ":7.10,9.2 1 0\n"
	if err := os.WriteFile(profile, []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.html")
	if code, _, stderr := runCmd(t, "cover", "--html", out, profile); code != 0 {
		t.Fatalf("cover --html = %d %s", code, stderr)
	}
	page := string(mustRead(t, out))
	for _, w := range []string{
		`" title="1">`, "return a &lt; 1 &amp;&amp; a &gt; -1",
		`<span class="cov0" title="0">{`, `println(&#34;&lt;g&gt;&#34;)`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("report does not contain %q:\n%s", w, page)
		}
	}
	if strings.Contains(page, "source not found") {
		t.Error("the source was not found")
	}
}

func TestCoverMergesAndConfig(t *testing.T) {
	t.Parallel()
	// testdata/merged.out reports the block a.go:3.14 twice, as runs with
	// -coverpkg do: not run by one binary, run by another. It counts once,
	// as covered.
	code, stdout, stderr := runCmd(t, "cover", "testdata/merged.out")
	if code != 0 {
		t.Fatalf("cover = %d %s", code, stderr)
	}
	wantRows := [][]string{
		{"example.com/m/a", "4", "4", "100.0%", "-", "OK"},
		{"example.com/m/b", "4", "0", "0.0%", "-", "OK"},
		{"example.com/m/internal/gen", "5", "0", "0.0%", "-", "OK"},
		{"total", "13", "4", "30.8%", "-", "OK"},
	}
	checkRows(t, stdout, wantRows)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "cover.yaml")
	if err := os.WriteFile(cfg, []byte("min: 40\npackageMin: 50\npackages:\n  example.com/m/b: 0\nexclude:\n  - example.com/m/internal/...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCmd(t, "cover", "--config", cfg, "testdata/merged.out")
	if code != 0 {
		t.Errorf("cover --config = %d %s", code, stderr)
	}
	checkRows(t, stdout, [][]string{
		{"example.com/m/a", "4", "4", "100.0%", "50.0%", "OK"},
		{"example.com/m/b", "4", "0", "0.0%", "0.0%", "OK"},
		{"total", "8", "4", "50.0%", "40.0%", "OK"},
	})
	if strings.Contains(stdout, "internal/gen") {
		t.Errorf("excluded package reported:\n%s", stdout)
	}
	// Flags override the file; the package entry of the file stays.
	code, _, stderr = runCmd(t, "cover", "--config", cfg, "--min", "60", "--package-min", "100", "testdata/merged.out")
	if code != 1 || !strings.Contains(stderr, "  total: 50.0% is below 60.0% (--min)") || strings.Contains(stderr, "example.com/m/b:") {
		t.Errorf("cover with overriding flags = %d %s", code, stderr)
	}
	if err := os.WriteFile(cfg, []byte("min: 60\npackages:\n  example.com/m/b: 10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, "cover", "--config", cfg, "testdata/merged.out")
	if code != 1 || !strings.Contains(stderr, "  example.com/m/b: 0.0% is below 10.0% (packages[example.com/m/b] of "+cfg+")\n  total: 30.8% is below 60.0% (min of "+cfg+")") {
		t.Errorf("cover with the file's thresholds = %d %s", code, stderr)
	}
	if err := os.WriteFile(cfg, []byte("minimum: 60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, "cover", "--config", cfg, "testdata/merged.out")
	if code != 1 || !strings.Contains(stderr, "invalid coverage config "+cfg) || !strings.Contains(stderr, "minimum") {
		t.Errorf("cover with an unknown key = %d %s", code, stderr)
	}
}

// checkRows checks that the table has the rows, in order, with these
// fields.
func checkRows(t *testing.T, table string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != len(rows)+1 {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), len(rows)+1, table)
	}
	for i, want := range rows {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q, want %q", i, got, want)
		}
	}
}

// TestCoverRefusesWhatCannotFail is the regression test of thresholds and
// profiles with which the gate could never fail, or never pass.
func TestCoverRefusesWhatCannotFail(t *testing.T) {
	t.Parallel()
	profile := realProfile(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.out", "")
	modeOnly := write("mode.out", "mode: atomic\n")
	excludeAll := write("exclude-all.yaml", "exclude: [\"example.com/...\"]\n")
	nanConfig := write("nan.yaml", "min: .nan\n")
	nanPackage := write("nan-package.yaml", "packages: {example.com/tiny/calc: .nan}\n")
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"empty profile", []string{"cover", "--min", "80", empty}, 1, "has no statements to check"},
		{"mode line only", []string{"cover", "--min", "80", modeOnly}, 1, "has no statements to check"},
		{"everything excluded", []string{"cover", "--config", excludeAll, profile}, 1, "has no statements to check"},
		{"--min NaN", []string{"cover", "--min", "NaN", profile}, 2, "thresholds are percentages from 0 up, got --min NaN"},
		{"--package-min NaN", []string{"cover", "--package-min", "nan", profile}, 2, "--package-min NaN"},
		{"--min +Inf", []string{"cover", "--min", "+Inf", profile}, 2, "--min +Inf"},
		{"min NaN in the config", []string{"cover", "--config", nanConfig, profile}, 2, "min of " + nanConfig + " NaN"},
		{"packages NaN in the config", []string{"cover", "--config", nanPackage, profile}, 1, "packages[example.com/tiny/calc] is NaN"},
		{"--min -0.5", []string{"cover", "--min", "-0.5", profile}, 2, "--min -0.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCmd(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Errorf("%s = %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(c.args, " "), code, c.code, c.stderr, stdout, stderr)
			}
		})
	}
}
