package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/tools/cover"
	"gopkg.in/yaml.v3"
)

// defaultCoverConfig is the coverage config file read when --config is not
// given and the file exists in the working directory.
const defaultCoverConfig = ".greenroom-cover.yaml"

// coverConfig is the coverage config file: thresholds in percent.
type coverConfig struct {
	// Min is the threshold of the total.
	Min *float64 `yaml:"min"`
	// PackageMin is the threshold of every package without its own.
	PackageMin *float64 `yaml:"packageMin"`
	// Packages are the thresholds of single packages, by import path.
	Packages map[string]float64 `yaml:"packages"`
	// Exclude lists patterns of import paths or file names left out of
	// the counts: path.Match globs, or a path ending in "/..." for it and
	// everything below it.
	Exclude []string `yaml:"exclude"`
}

func newCoverCommand() *cobra.Command {
	var (
		minTotal, minPackage float64
		htmlOut, configFile  string
	)
	cmd := &cobra.Command{
		Use:   "cover [--min <percent>] [--package-min <percent>] [--html <file>] [--config <file>] <coverprofile>",
		Short: "Check a coverage profile against thresholds: the CI coverage gate",
		Long: "Cover reads a coverage profile written by 'go test -coverprofile' (modes set, count and atomic;\n" +
			"blocks that several test binaries report, as with -coverpkg, are merged) and prints the statements,\n" +
			"covered statements and percentage of every package and of the total. It fails (exit 1), naming\n" +
			"each, when the total is below --min or a package below its threshold: its entry under packages\n" +
			"in the config file, else --package-min.\n\n" +
			"Thresholds may come from a YAML config file (--config, by default " + defaultCoverConfig + " when it\n" +
			"exists): min, packageMin, packages {<import path>: percent} and exclude [<globs>]. Flags override\n" +
			"the file. --html writes a self-contained report: the table and every file's source, colored by\n" +
			"coverage.",
		Example: "  go test -covermode=atomic -coverprofile=cover.out ./...\n" +
			"  greenroom cover --min 80 --package-min 60 --html cover.html cover.out",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("give one coverage profile, such as cover.out (written by go test -coverprofile=cover.out), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, cfgName, err := loadCoverConfig(configFile, cmd.Flags().Changed("config"))
			if err != nil {
				return err
			}
			th := thresholds{packages: cfg.Packages, source: cfgName}
			if cfg.Min != nil {
				th.total, th.totalSource = *cfg.Min, "min of "+cfgName
			}
			if cfg.PackageMin != nil {
				th.pkg, th.pkgSource = *cfg.PackageMin, "packageMin of "+cfgName
			}
			if cmd.Flags().Changed("min") {
				th.total, th.totalSource = minTotal, "--min"
			}
			if cmd.Flags().Changed("package-min") {
				th.pkg, th.pkgSource = minPackage, "--package-min"
			}
			if !validThreshold(th.total) || !validThreshold(th.pkg) {
				return usagef("thresholds are percentages from 0 up, got %s %g and %s %g", orFlag(th.totalSource, "--min"), th.total, orFlag(th.pkgSource, "--package-min"), th.pkg)
			}
			for p, v := range th.packages {
				if !validThreshold(v) {
					return fmt.Errorf("invalid coverage config %s: packages[%s] is %g; give a percentage from 0 up", cfgName, p, v)
				}
			}
			profiles, err := cover.ParseProfiles(args[0])
			if err != nil {
				return fmt.Errorf("reading the coverage profile: %w; write one with go test -coverprofile=%s", err, args[0])
			}
			profiles = excludeProfiles(profiles, cfg.Exclude)
			rep := summarize(profiles, th)
			if rep.Total.Count.statements == 0 {
				// 0 of 0 statements would be 100 % and pass any threshold.
				return fmt.Errorf("the coverage profile %s has no statements to check (it is empty, has only its mode line, or the exclude patterns of the coverage config remove every file); write it with go test -coverprofile=%s ./... on the packages to measure", args[0], args[0])
			}
			if err := rep.print(cmd.OutOrStdout()); err != nil {
				return err
			}
			if htmlOut != "" {
				if err := writeHTMLReport(cmd.Context(), htmlOut, args[0], rep, profiles); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Wrote the coverage report to %s\n", htmlOut)
			}
			return rep.err()
		},
	}
	f := cmd.Flags()
	f.Float64Var(&minTotal, "min", 0, "minimum total coverage in `percent`")
	f.Float64Var(&minPackage, "package-min", 0, "minimum coverage of every package in `percent` (packages of the config file have their own)")
	f.StringVar(&htmlOut, "html", "", "write an HTML report to `file`")
	f.StringVar(&configFile, "config", defaultCoverConfig, "coverage config `file` (YAML: min, packageMin, packages, exclude)")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkFlagFilename("html", "html")
	return cmd
}

// validThreshold reports whether v is a percentage a threshold can be: a
// number from 0 up. NaN is not: no coverage would be below it or above it.
// Above 100 is, and nothing reaches it.
func validThreshold(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

// orFlag returns source, or flag when source is empty (the default).
func orFlag(source, flag string) string {
	if source == "" {
		return flag
	}
	return source
}

// loadCoverConfig reads the coverage config file. The default file may be
// missing; a file named on the command line must exist.
func loadCoverConfig(file string, explicit bool) (coverConfig, string, error) {
	var cfg coverConfig
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return cfg, "", nil
	}
	if err != nil {
		return cfg, "", fmt.Errorf("reading the coverage config: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, "", fmt.Errorf("invalid coverage config %s: %w; expected the keys min, packageMin, packages and exclude", file, err)
	}
	for _, g := range cfg.Exclude {
		if _, err := path.Match(strings.TrimSuffix(g, "/..."), ""); err != nil {
			return cfg, "", fmt.Errorf("invalid coverage config %s: exclude pattern %q: %w", file, g, err)
		}
	}
	return cfg, file, nil
}

// excluded reports whether name (an import path or a file name) matches a
// pattern: a path.Match glob, or "p/..." for p and everything below it.
func excluded(name string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "/..."); ok {
			if name == prefix || strings.HasPrefix(name, prefix+"/") {
				return true
			}
			continue
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func excludeProfiles(profiles []*cover.Profile, patterns []string) []*cover.Profile {
	if len(patterns) == 0 {
		return profiles
	}
	return slices.DeleteFunc(slices.Clone(profiles), func(p *cover.Profile) bool {
		return excluded(p.FileName, patterns) || excluded(path.Dir(p.FileName), patterns)
	})
}

// thresholds are the minimum percentages and where they were set.
type thresholds struct {
	total, pkg             float64
	totalSource, pkgSource string
	packages               map[string]float64
	source                 string // the config file of packages
}

// forPackage returns the threshold of pkg and where it was set; "" means
// none.
func (t thresholds) forPackage(pkg string) (float64, string) {
	if v, ok := t.packages[pkg]; ok {
		return v, fmt.Sprintf("packages[%s] of %s", pkg, t.source)
	}
	return t.pkg, t.pkgSource
}

// coverCount is a number of statements and how many of them ran.
type coverCount struct{ statements, covered int64 }

func (c coverCount) percent() float64 {
	if c.statements == 0 {
		return 100
	}
	return 100 * float64(c.covered) / float64(c.statements)
}

func (c *coverCount) add(p *cover.Profile) {
	for _, b := range p.Blocks {
		c.statements += int64(b.NumStmt)
		if b.Count > 0 {
			c.covered += int64(b.NumStmt)
		}
	}
}

// pkgCoverage is one row of the report.
type pkgCoverage struct {
	Package   string
	Count     coverCount
	Threshold float64
	Source    string // where Threshold was set; "" for none
}

func (p pkgCoverage) Ok() bool { return p.Source == "" || p.Count.percent() >= p.Threshold }

// coverReport is the per-package table and the total.
type coverReport struct {
	Packages []pkgCoverage
	Total    pkgCoverage
}

func summarize(profiles []*cover.Profile, th thresholds) coverReport {
	byPkg := make(map[string]*coverCount)
	var rep coverReport
	for _, p := range profiles {
		pkg := path.Dir(p.FileName)
		c := byPkg[pkg]
		if c == nil {
			c = new(coverCount)
			byPkg[pkg] = c
		}
		c.add(p)
		rep.Total.Count.add(p)
	}
	for _, pkg := range slices.Sorted(maps.Keys(byPkg)) {
		v, src := th.forPackage(pkg)
		rep.Packages = append(rep.Packages, pkgCoverage{Package: pkg, Count: *byPkg[pkg], Threshold: v, Source: src})
	}
	rep.Total.Package = "total"
	rep.Total.Threshold, rep.Total.Source = th.total, th.totalSource
	return rep
}

func (r coverReport) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "PACKAGE\tSTATEMENTS\tCOVERED\tPERCENT\tTHRESHOLD\tRESULT\t\n")
	row := func(p pkgCoverage) {
		th, res := "-", "OK"
		if p.Source != "" {
			th = fmt.Sprintf("%.1f%%", p.Threshold)
		}
		if !p.Ok() {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%s\t%s\t\n", p.Package, p.Count.statements, p.Count.covered, p.Count.percent(), th, res)
	}
	for _, p := range r.Packages {
		row(p)
	}
	row(r.Total)
	return tw.Flush()
}

// err names every package and the total below their thresholds.
func (r coverReport) err() error {
	var failed []string
	for _, p := range append(slices.Clone(r.Packages), r.Total) {
		if !p.Ok() {
			failed = append(failed, fmt.Sprintf("  %s: %.1f%% is below %.1f%% (%s)", p.Package, p.Count.percent(), p.Threshold, p.Source))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("coverage below the threshold:\n%s\nAdd tests, or lower the threshold where it is set", strings.Join(failed, "\n"))
}
