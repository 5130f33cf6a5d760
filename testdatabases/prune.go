package testdatabases

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// templateName is a parsed template name, greenroom_tpl_<hash>_<created>,
// where created is a Unix time in seconds.
type templateName struct {
	name    string
	hash    string
	created int64
}

// parseTemplateNames keeps the names that have the template form and
// returns them newest first (ties by name, so every run orders them alike).
// A stray database whose name merely starts with greenroom_tpl_ is ignored
// rather than allowed to stop the pruning of the others.
func parseTemplateNames(names []string) []templateName {
	var out []templateName
	for _, n := range names {
		p := strings.Split(n, "_")
		if len(p) != 4 || p[0] != "greenroom" || p[1] != "tpl" || p[2] == "" {
			continue
		}
		ts, err := strconv.ParseInt(p[3], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, templateName{name: n, hash: p[2], created: ts})
	}
	slices.SortFunc(out, func(a, b templateName) int {
		if c := cmp.Compare(b.created, a.created); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return out
}

// beyondBound returns the templates to drop so that at most maxTemplates
// remain: all but the newest, where keep (the template just built or found)
// counts as the newest whatever its timestamp says, so that it is never
// dropped and never makes the bound one larger. Callers still skip the
// templates a live run uses.
func beyondBound(names []string, keep string) []templateName {
	tps := parseTemplateNames(names)
	if i := slices.IndexFunc(tps, func(t templateName) bool { return t.name == keep }); i > 0 {
		k := tps[i]
		copy(tps[1:i+1], tps[:i])
		tps[0] = k
	}
	if len(tps) <= maxTemplates {
		return nil
	}
	var out []templateName
	for _, t := range tps[maxTemplates:] {
		if t.name != keep {
			out = append(out, t)
		}
	}
	return out
}

// warnf reports a failure of background housekeeping (pruning templates,
// dropping databases) that no test can be failed for: it runs outside any
// test, and failing an unrelated test for it would hide the cause. It writes
// to the process's standard error, as the reaper does; go test shows it with
// -v, when the package fails, or when run in a package directory.
func warnf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "testdatabases: "+format+"\n", args...)
}
