package diff

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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
					if c.Lines == nil {
						fmt.Fprintf(&b, "      %s: %s → %s\n", c.Path, paint("31", show(c.Old)), paint("32", show(c.New)))
						continue
					}
					indent := "      "
					if c.Path != "" {
						fmt.Fprintf(&b, "      %s:\n", c.Path)
						indent += "  "
					}
					for _, l := range c.Lines {
						text := l.Op + " " + l.Text
						switch l.Op {
						case "-":
							text = paint("31", text)
						case "+":
							text = paint("32", text)
						case "@":
							text = paint("36", l.Text)
						}
						fmt.Fprintf(&b, "%s%s\n", indent, text)
					}
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

// CommentLimit is the most characters a GitHub pull-request comment holds.
const CommentLimit = 65536

// MarkdownOptions shape a Markdown report.
type MarkdownOptions struct {
	// Title is the heading.
	Title string
	// Marker is the report's first line, an HTML comment a CI bot finds
	// its earlier comment by, to update it rather than add another.
	Marker string
	// Graph, when given, is a Mermaid diagram shown after the summary.
	Graph []byte
	// Limit is the most bytes the report may take (0: CommentLimit). A
	// byte is at most a character, so a report within Limit bytes fits a
	// comment of Limit characters.
	Limit int
	// Rerun is the command that shows every change, named in the note
	// of what was cut.
	Rerun string
}

// group is the clusters whose changes are the same (a version bump
// across a fleet): reviewed once.
type group struct {
	clusters []string
	objects  []Object // the first cluster's
	size     int      // objects and changed fields, per cluster
}

// title names the group's clusters, each formatted by code.
func (g *group) title(code func(string) string) string {
	switch {
	case len(g.clusters) == 0:
		return "outside the cluster bundles"
	case len(g.clusters) == 1:
		return code(g.clusters[0])
	}
	return fmt.Sprintf("%s and %s with the same changes", code(g.clusters[0]), pluralize(len(g.clusters)-1, "more cluster"))
}

func backticks(s string) string { return "`" + s + "`" }

func codeTag(s string) string { return "<code>" + s + "</code>" }

// groups gathers clusters with the same changes, largest changes first.
func (r *Result) groups() []*group {
	var out []*group
	bySig := map[string]*group{}
	for _, c := range r.Clusters {
		sig := signature(c)
		if g, ok := bySig[sig]; ok {
			g.clusters = append(g.clusters, c.Name)
			continue
		}
		g := &group{clusters: []string{c.Name}, objects: c.Objects, size: size(c.Objects)}
		bySig[sig] = g
		out = append(out, g)
	}
	slices.SortStableFunc(out, func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.size, a.size), cmp.Compare(len(b.clusters), len(a.clusters)))
	})
	if len(r.Other) > 0 {
		out = append(out, &group{objects: r.Other, size: size(r.Other)})
	}
	return out
}

// signature is a cluster's changes without its name.
func signature(c Cluster) string {
	prefix := "clusters/" + c.Name + "/"
	objs := make([]Object, len(c.Objects))
	for i, o := range c.Objects {
		o.File = strings.TrimPrefix(o.File, prefix)
		objs[i] = o
	}
	data, err := json.Marshal(objs)
	if err != nil {
		return c.Name // not groupable: its own group
	}
	return string(data)
}

func size(objs []Object) int {
	n := 0
	for _, o := range objs {
		n++
		for _, c := range o.Changes {
			n += max(1, len(c.Lines))
		}
	}
	return n
}

// Markdown writes the differences for a pull-request comment: the marker
// line, a summary table, then one collapsible section per cluster with its
// changes in a diff block. Clusters with the same changes share a row and
// a section; the largest changes come first; and the report stays within
// opts.Limit, saying what it cut.
func (r *Result) Markdown(w io.Writer, opts MarkdownOptions) error {
	limit := opts.Limit
	if limit <= 0 {
		limit = CommentLimit
	}
	var b strings.Builder
	if opts.Marker != "" {
		b.WriteString(opts.Marker + "\n")
	}
	fmt.Fprintf(&b, "### %s\n\n", opts.Title)
	if r.Empty() {
		b.WriteString("No changes to any cluster.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	// The note of what was cut needs room whatever happens.
	const noteRoom = 600
	budget := limit - noteRoom
	groups := r.groups()
	var added, changed, removed int
	for _, c := range r.Clusters {
		added, changed, removed = added+c.Count(Added), changed+c.Count(Changed), removed+c.Count(Removed)
	}
	fmt.Fprintf(&b, "**%s changed**: %d added, %d changed, %d removed objects in all", pluralize(len(r.Clusters), "cluster"), added, changed, removed)
	if len(r.Other) > 0 {
		o := Cluster{Objects: r.Other}
		fmt.Fprintf(&b, "; outside the cluster bundles %d added, %d changed, %d removed", o.Count(Added), o.Count(Changed), o.Count(Removed))
	}
	b.WriteString(".\n\n")

	// The table: a row per count of objects added, changed and removed,
	// naming its clusters, while it takes at most a quarter.
	b.WriteString("| clusters | added | changed | removed |\n|---|---:|---:|---:|\n")
	rows := tableRows(groups)
	for i, row := range rows {
		if b.Len()+len(row) > budget/4 {
			fmt.Fprintf(&b, "| … %d more rows, smaller changes | | | |\n", len(rows)-i)
			break
		}
		b.WriteString(row)
	}
	var cut []string
	if len(opts.Graph) > 0 {
		drawing := fmt.Sprintf("\n<details><summary>Topology</summary>\n\n```mermaid\n%s```\n\n</details>\n", opts.Graph)
		if b.Len()+len(drawing) <= budget/2 {
			b.WriteString(drawing)
		} else {
			cut = append(cut, "the topology's graph")
		}
	}

	// The sections, largest changes first, while they fit.
	hiddenClusters, hiddenObjects := 0, 0
	for i, g := range groups {
		sec, shown := section(g, budget-b.Len())
		b.WriteString(sec)
		if shown < len(g.objects) {
			hiddenObjects += (len(g.objects) - shown) * max(1, len(g.clusters))
			if shown == 0 {
				hiddenClusters += max(1, len(g.clusters))
			}
			for _, rest := range groups[i+1:] {
				hiddenClusters += max(1, len(rest.clusters))
				hiddenObjects += len(rest.objects) * max(1, len(rest.clusters))
			}
			break
		}
	}
	if hiddenObjects > 0 {
		cut = append(cut, fmt.Sprintf("the changes of %s in %s", pluralize(hiddenObjects, "object"), pluralize(hiddenClusters, "more cluster")))
	}
	if len(cut) > 0 {
		fmt.Fprintf(&b, "\n> [!NOTE]\n> Cut to fit a pull-request comment (%d characters): %s %s not shown.", limit, strings.Join(cut, " and "), isAre(len(cut)))
		if opts.Rerun != "" {
			fmt.Fprintf(&b, " `%s` shows everything.", opts.Rerun)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tableRows are the summary table's rows: the groups' clusters gathered by
// how many objects each adds, changes and removes, in the groups' order.
func tableRows(groups []*group) []string {
	type row struct {
		counts   [3]int
		clusters []string
		other    bool
	}
	var rows []*row
	byCounts := map[[3]int]*row{}
	for _, g := range groups {
		c := Cluster{Objects: g.objects}
		counts := [3]int{c.Count(Added), c.Count(Changed), c.Count(Removed)}
		if len(g.clusters) == 0 {
			rows = append(rows, &row{counts: counts, other: true})
			continue
		}
		r, ok := byCounts[counts]
		if !ok {
			r = &row{counts: counts}
			byCounts[counts] = r
			rows = append(rows, r)
		}
		r.clusters = append(r.clusters, g.clusters...)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		var names string
		switch {
		case r.other:
			names = "(outside the cluster bundles)"
		case len(r.clusters) == 1:
			names = backticks(r.clusters[0])
		default:
			shown := r.clusters[:min(len(r.clusters), 3)]
			quoted := make([]string, len(shown))
			for j, n := range shown {
				quoted[j] = backticks(n)
			}
			names = fmt.Sprintf("%d clusters: %s", len(r.clusters), strings.Join(quoted, ", "))
			if more := len(r.clusters) - len(shown); more > 0 {
				names += fmt.Sprintf(" and %d more", more)
			}
		}
		out[i] = fmt.Sprintf("| %s | %d | %d | %d |\n", names, r.counts[0], r.counts[1], r.counts[2])
	}
	return out
}

// section writes a group's collapsible section within room bytes, its
// objects in order for as long as they fit, and says how many it showed.
func section(g *group, room int) (string, int) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary>%s: %s</summary>\n\n```diff\n", g.title(codeTag), summary(g.objects))
	if len(g.clusters) > 1 {
		names := strings.Join(g.clusters, ", ")
		if len(names) > 2000 {
			names = strings.Join(g.clusters[:20], ", ") + fmt.Sprintf(", … (%d in all)", len(g.clusters))
		}
		fmt.Fprintf(&b, "# clusters: %s\n", names)
	}
	const closing = "```\n\n</details>\n"
	const more = "# … %d more objects, cut to fit\n"
	shown := 0
	for i, o := range g.objects {
		text := objectDiff(o)
		reserve := len(closing)
		if i < len(g.objects)-1 {
			reserve += len(more) + 8
		}
		if b.Len()+len(text)+reserve > room {
			if shown == 0 {
				return "", 0
			}
			fmt.Fprintf(&b, more, len(g.objects)-i)
			break
		}
		b.WriteString(text)
		shown++
	}
	b.WriteString(closing)
	return b.String(), shown
}

// objectDiff is one object in a diff block.
func objectDiff(o Object) string {
	var b strings.Builder
	switch o.Status {
	case Added:
		fmt.Fprintf(&b, "+ %s (%s)\n", o.ID, o.File)
	case Removed:
		fmt.Fprintf(&b, "- %s (%s)\n", o.ID, o.File)
	case Changed:
		fmt.Fprintf(&b, "! %s (%s)\n", o.ID, o.File)
		for _, c := range o.Changes {
			if c.Lines != nil {
				indent := "  "
				if c.Path != "" {
					fmt.Fprintf(&b, "!   %s:\n", c.Path)
					indent = "      "
				}
				for _, l := range c.Lines {
					if l.Op == "@" {
						// Unindented, so that the block highlights it as
						// a hunk header.
						fmt.Fprintf(&b, "%s\n", l.Text)
						continue
					}
					fmt.Fprintf(&b, "%s%s%s\n", l.Op, indent, strings.ReplaceAll(l.Text, "```", "` ` `"))
				}
				continue
			}
			if c.Old != nil {
				fmt.Fprintf(&b, "-   %s: %s\n", c.Path, fence(show(c.Old)))
			}
			if c.New != nil {
				fmt.Fprintf(&b, "+   %s: %s\n", c.Path, fence(show(c.New)))
			}
		}
	}
	return b.String()
}

// fence keeps a value from closing the diff block it is shown in.
func fence(s string) string { return strings.ReplaceAll(s, "```", "` ` `") }

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func pluralize(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
