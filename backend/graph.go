package backend

import (
	"cmp"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/greenroom-dev/greenroom/internal/refindex"
)

// Graph is the wiring of a backend, as [Backend.Graph] finds it: the
// plugins, modules, services and extension points, the edges between them
// (depends on, provides, extends), and the problems Start would report.
// Print it as text with String, or as Graphviz DOT with WriteDOT, where the
// nodes that problems are about are red, as in uber-go/dig's Visualize.
type Graph struct {
	nodes    []graphNode
	edges    []graphEdge
	problems []Problem
}

type graphNode struct {
	key     string // "plugin:todo", "module:todo/extra", "service:core.logger", "extensionPoint:x"
	kind    int    // the order of kinds in the output
	label   string // "plugin todo", "service core.logger (plugin)"
	failing bool
}

type graphEdge struct{ from, to, label string }

const (
	kindPlugin = iota
	kindModule
	kindService
	kindExtensionPoint
)

// Graph returns the wiring graph of the backend. It runs nothing: no
// factory, init or hook is called, so it can be printed before Start, to
// see what Start would do or why it fails. Services are those that the
// plugins, the modules and the factories Start would create depend on,
// with the factory that provides each.
func (b *Backend) Graph() *Graph {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, problems := b.validate()
	g := &Graph{problems: problems}
	nodes := make(map[string]*graphNode)
	node := func(key string, kind int, label string) string {
		if _, ok := nodes[key]; !ok {
			nodes[key] = &graphNode{key: key, kind: kind, label: label}
		}
		return key
	}
	refNode := func(d *refindex.Desc) string {
		if d.ExtensionPoint {
			return node("extensionPoint:"+d.ID, kindExtensionPoint, "extension point "+d.ID)
		}
		return node("service:"+d.ID, kindService, fmt.Sprintf("service %s (%s)", d.ID, d.Scope()))
	}
	edge := func(from, to, label string) {
		e := graphEdge{from, to, label}
		if !slices.Contains(g.edges, e) {
			g.edges = append(g.edges, e)
		}
	}
	var queue []*refindex.Desc
	seen := make(map[*refindex.Desc]bool)
	dependsOn := func(from string, t reflect.Type) {
		if t == nil {
			return
		}
		for _, fd := range b.spec(t) {
			if fd.ref == nil {
				continue
			}
			edge(from, refNode(fd.ref), "depends on")
			if !fd.ref.ExtensionPoint && !seen[fd.ref] {
				seen[fd.ref] = true
				queue = append(queue, fd.ref)
			}
		}
	}
	registration := func(from string, reg *registration) {
		if reg.init != nil {
			dependsOn(from, reg.init.deps)
		}
		for _, ep := range reg.extensionPoints {
			if ep.ref != nil {
				edge(from, refNode(ep.ref), "provides")
			}
		}
	}
	for _, feat := range b.features {
		switch f := feat.(type) {
		case *Plugin:
			if f != nil {
				registration(node("plugin:"+f.id, kindPlugin, "plugin "+f.id), &f.reg)
			}
		case *Module:
			if f != nil {
				from := node("module:"+f.pluginID+"/"+f.moduleID, kindModule, "module "+f.pluginID+"/"+f.moduleID)
				edge(from, node("plugin:"+f.pluginID, kindPlugin, "plugin "+f.pluginID), "extends")
				registration(from, &f.reg)
			}
		}
	}
	// Root services and eager plugin services are created without being
	// asked for.
	for _, id := range b.installed {
		svc := b.installedRef(id)
		if isBuiltin(id) || seen[svc] {
			continue
		}
		for _, f := range b.effective(svc) {
			if svc.Root || f.eager {
				seen[svc] = true
				queue = append(queue, svc)
				refNode(svc)
				break
			}
		}
	}
	for len(queue) > 0 {
		svc := queue[0]
		queue = queue[1:]
		from := refNode(svc)
		for _, f := range b.effective(svc) {
			dependsOn(from, f.deps)
			dependsOn(from, f.rootDeps)
		}
	}
	for _, p := range problems {
		for _, key := range []string{"plugin:" + p.Plugin, "module:" + p.Plugin + "/" + p.Module, refKey(p.Ref)} {
			if n := nodes[key]; n != nil && (p.Module == "" || key != "plugin:"+p.Plugin) {
				n.failing = true
			}
		}
	}
	for _, n := range nodes {
		g.nodes = append(g.nodes, *n)
	}
	slices.SortFunc(g.nodes, func(a, b graphNode) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), strings.Compare(a.key, b.key))
	})
	slices.SortFunc(g.edges, func(a, b graphEdge) int {
		return cmp.Or(strings.Compare(a.from, b.from), strings.Compare(a.label, b.label), strings.Compare(a.to, b.to))
	})
	return g
}

// refKey returns the node key of a problem's Ref ("serviceRef{id}" or
// "extensionPoint{id}"), or "".
func refKey(ref string) string {
	if id, ok := strings.CutPrefix(ref, "serviceRef{"); ok {
		return "service:" + strings.TrimSuffix(id, "}")
	}
	if id, ok := strings.CutPrefix(ref, "extensionPoint{"); ok {
		return "extensionPoint:" + strings.TrimSuffix(id, "}")
	}
	return ""
}

// Problems returns the problems Start would report, as in [WiringError].
func (g *Graph) Problems() []Problem { return slices.Clone(g.problems) }

// String returns the graph as text: each node, marked "[problem]" when a
// problem is about it, followed by its edges, then the problems.
func (g *Graph) String() string {
	labels := make(map[string]string, len(g.nodes))
	for _, n := range g.nodes {
		labels[n.key] = n.label
	}
	var sb strings.Builder
	for _, n := range g.nodes {
		sb.WriteString(n.label)
		if n.failing {
			sb.WriteString(" [problem]")
		}
		sb.WriteByte('\n')
		for _, e := range g.edges {
			if e.from == n.key {
				fmt.Fprintf(&sb, "  %s %s\n", e.label, labels[e.to])
			}
		}
	}
	if len(g.problems) > 0 {
		sb.WriteString((&WiringError{Problems: g.problems}).Error())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// WriteDOT writes the graph in the Graphviz DOT language: plugins and
// modules as boxes, services as ellipses, extension points as diamonds,
// and in red the nodes that problems are about.
func (g *Graph) WriteDOT(w io.Writer) error {
	var sb strings.Builder
	sb.WriteString("digraph backend {\n\trankdir=LR;\n")
	for _, n := range g.nodes {
		shape := "ellipse"
		switch n.kind {
		case kindPlugin, kindModule:
			shape = "box"
		case kindExtensionPoint:
			shape = "diamond"
		}
		attrs := fmt.Sprintf("label=%q, shape=%s", n.label, shape)
		if n.failing {
			attrs += ", color=red, fontcolor=red"
		}
		fmt.Fprintf(&sb, "\t%q [%s];\n", n.key, attrs)
	}
	for _, e := range g.edges {
		fmt.Fprintf(&sb, "\t%q -> %q [label=%q];\n", e.from, e.to, e.label)
	}
	sb.WriteString("}\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// DOT returns the graph in the Graphviz DOT language, as WriteDOT writes it.
func (g *Graph) DOT() string {
	var sb strings.Builder
	_ = g.WriteDOT(&sb) // a strings.Builder does not fail
	return sb.String()
}
