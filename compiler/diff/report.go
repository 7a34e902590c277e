package diff

import (
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Text writes the differences for a terminal: a summary line per cluster,
// then each object with its changed fields. color adds ANSI colours (the
// caller decides: only on a terminal, never with NO_COLOR).
func (r *Result) Text(w io.Writer, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	var b strings.Builder
	if r.Empty() {
		b.WriteString("no changes\n")
	}
	write := func(title string, objs []Object) {
		fmt.Fprintf(&b, "%s: %s\n", paint("1", title), summary(objs))
		for _, o := range objs {
			switch o.Status {
			case Added:
				fmt.Fprintf(&b, "  %s %s  (%s)\n", paint("32", "+"), o.ID, o.File)
			case Removed:
				fmt.Fprintf(&b, "  %s %s  (%s)\n", paint("31", "-"), o.ID, o.File)
			case Changed:
				fmt.Fprintf(&b, "  %s %s  (%s)\n", paint("33", "~"), o.ID, o.File)
				for _, c := range o.Changes {
					fmt.Fprintf(&b, "      %s: %s → %s\n", c.Path, paint("31", show(c.Old)), paint("32", show(c.New)))
				}
			}
		}
	}
	for _, c := range r.Clusters {
		write("cluster "+c.Name, c.Objects)
	}
	if len(r.Other) > 0 {
		write("outside the cluster bundles", r.Other)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown writes the differences for a pull-request comment: a summary
// table, then one collapsible section per cluster with its changes in a
// diff block; graph, when given, is a Mermaid diagram shown after the table.
func (r *Result) Markdown(w io.Writer, title string, graph []byte) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", title)
	if r.Empty() {
		b.WriteString("No changes to any cluster.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| cluster | added | changed | removed |\n|---|---:|---:|---:|\n")
	for _, c := range r.Clusters {
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d |\n", c.Name, c.Count(Added), c.Count(Changed), c.Count(Removed))
	}
	if len(r.Other) > 0 {
		o := Cluster{Objects: r.Other}
		fmt.Fprintf(&b, "| (outside cluster bundles) | %d | %d | %d |\n", o.Count(Added), o.Count(Changed), o.Count(Removed))
	}
	if len(graph) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>Topology</summary>\n\n```mermaid\n%s```\n\n</details>\n", graph)
	}
	section := func(title string, objs []Object) {
		fmt.Fprintf(&b, "\n<details><summary><code>%s</code>: %s</summary>\n\n```diff\n", title, summary(objs))
		for _, o := range objs {
			switch o.Status {
			case Added:
				fmt.Fprintf(&b, "+ %s (%s)\n", o.ID, o.File)
			case Removed:
				fmt.Fprintf(&b, "- %s (%s)\n", o.ID, o.File)
			case Changed:
				fmt.Fprintf(&b, "! %s (%s)\n", o.ID, o.File)
				for _, c := range o.Changes {
					if c.Old != nil {
						fmt.Fprintf(&b, "-   %s: %s\n", c.Path, show(c.Old))
					}
					if c.New != nil {
						fmt.Fprintf(&b, "+   %s: %s\n", c.Path, show(c.New))
					}
				}
			}
		}
		b.WriteString("```\n\n</details>\n")
	}
	for _, c := range r.Clusters {
		section(c.Name, c.Objects)
	}
	if len(r.Other) > 0 {
		section("outside the cluster bundles", r.Other)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summary(objs []Object) string {
	c := Cluster{Objects: objs}
	return fmt.Sprintf("%d added, %d changed, %d removed", c.Count(Added), c.Count(Changed), c.Count(Removed))
}

// show renders a value on one line: scalars as JSON-ish YAML, structures
// in flow style, absent as (none).
func show(v any) string {
	if v == nil {
		return "(none)"
	}
	if s, ok := v.(string); ok {
		if s == Masked {
			return s
		}
		if strings.Contains(s, "\n") {
			return fmt.Sprintf("%q", s)
		}
	}
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	out := strings.TrimSpace(string(data))
	if strings.Contains(out, "\n") {
		// A structure: one line, in JSON's flow style.
		if j, err := yaml.YAMLToJSON(data); err == nil {
			return string(j)
		}
	}
	return out
}
