package output

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/render"
)

// A write that exchanges folders below the output folder one by one (one
// folder: writeSubtree; each top-level entry: writeInPlace) cannot change
// the manifest, at the top, in the same steps. Before its first step it
// writes the manifest with a pending block per step: what the step puts in
// place (a staged folder or file, by device and inode, which a rename
// keeps) or removes, and the paths it adds to the list and drops from it.
// A reader applies a block only once its step is done on disk, so whenever
// the write stops, the manifest lists exactly meshc's files: a file the
// user makes meanwhile at a path a step would have added stays the user's,
// and the next build finishes the job. The blocks are comment lines: a
// meshc that does not know them reads the list before the write.
const (
	exchangePrefix = "# pending exchange " // <id> <path>: done once path is the entry id
	removalPrefix  = "# pending removal "  // <id> <path>: done once path is no longer the entry id
	addsPrefix     = "#+ "
	dropsPrefix    = "#- "
)

// pendingChange is one step of a write, as its manifest block says.
type pendingChange struct {
	path        string // slash path below the output folder
	id          string // the staged entry's identity, or for a removal the live one's
	removal     bool
	adds, drops []string
}

// changeAt is the step that puts the staged entry id at path (or, with
// removal, takes the live entry id away), moving the list owned towards
// tree's paths at and below path.
func changeAt(path, id string, removal bool, owned []string, tree render.Tree) pendingChange {
	c := pendingChange{path: path, id: id, removal: removal}
	at := func(p string) bool { return p == path || strings.HasPrefix(p, path+"/") }
	listed := make(map[string]bool, len(owned))
	for _, p := range owned {
		listed[p] = true
		if _, ok := tree[p]; at(p) && !ok {
			c.drops = append(c.drops, p)
		}
	}
	for _, p := range tree.Paths() {
		if at(p) && !listed[p] {
			c.adds = append(c.adds, p)
		}
	}
	return c
}

// done tells whether the step took place in dir.
func (c pendingChange) done(dir string) bool {
	live, ok := folderID(filepath.Join(dir, filepath.FromSlash(c.path)))
	if c.removal {
		return !ok || live != c.id
	}
	return ok && live == c.id
}

// pendingManifest is the manifest listing owned, with a block for each
// step to come.
func pendingManifest(owned []string, steps []pendingChange) []byte {
	var b bytes.Buffer
	b.Write(manifestOf(owned))
	for _, c := range steps {
		prefix := exchangePrefix
		if c.removal {
			prefix = removalPrefix
		}
		b.WriteString(prefix + c.id + " " + c.path + "\n")
		for _, p := range c.drops {
			b.WriteString(dropsPrefix + p + "\n")
		}
		for _, p := range c.adds {
			b.WriteString(addsPrefix + p + "\n")
		}
	}
	return b.Bytes()
}

// parsePending reads a manifest line that belongs to a pending block into
// steps; valid vets each path. It tells whether the line was one.
func parsePending(line string, steps *[]pendingChange, valid func(string) bool) bool {
	for _, h := range []struct {
		prefix  string
		removal bool
	}{{exchangePrefix, false}, {removalPrefix, true}} {
		if rest, ok := strings.CutPrefix(line, h.prefix); ok {
			id, path, _ := strings.Cut(rest, " ")
			if valid(path) {
				*steps = append(*steps, pendingChange{path: path, id: id, removal: h.removal})
			}
			return true
		}
	}
	for _, l := range []struct {
		prefix string
		adds   bool
	}{{addsPrefix, true}, {dropsPrefix, false}} {
		if p, ok := strings.CutPrefix(line, l.prefix); ok {
			if valid(p) && len(*steps) > 0 {
				last := &(*steps)[len(*steps)-1]
				if l.adds {
					last.adds = append(last.adds, p)
				} else {
					last.drops = append(last.drops, p)
				}
			}
			return true
		}
	}
	return false
}

// applyDone applies to owned the steps done in dir.
func applyDone(dir string, owned []string, steps []pendingChange) []string {
	changed := false
	dropped := map[string]bool{}
	var added []string
	for _, c := range steps {
		if !c.done(dir) {
			continue
		}
		changed = true
		for _, p := range c.drops {
			dropped[p] = true
		}
		added = append(added, c.adds...)
	}
	if !changed {
		return owned
	}
	out := slices.Concat(slices.DeleteFunc(owned, func(p string) bool { return dropped[p] }), added)
	slices.Sort(out)
	return slices.Compact(out)
}

// validEntry tells whether p names an entry below the output folder.
func validEntry(p string) bool {
	return fs.ValidPath(p) && p != "." && p != ManifestName && !strings.Contains(p, "\\")
}

// stopHere is called after each step of a write that takes several; a test
// makes it fail to stop the write there, as a killed build would.
var stopHere = func() error { return nil }
