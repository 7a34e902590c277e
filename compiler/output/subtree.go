package output

import (
	"bytes"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	"meshc.dev/meshc/compiler/render"
)

// A rebuild that changes a few files of a fleet's tree need not stage the
// whole tree: every file outside the deepest folder holding all the
// changes is the same file before and after. Exchanging that folder alone
// for a staged copy is as atomic as exchanging the whole tree: a reader
// sees the old folder or the new one, and everything around it is the
// same either way. A one-namespace edit of a 1,000-cluster fleet then
// stages one cluster's folder, not 6,000 folders and 21,000 links (and on
// ext4 without a journal, every folder made and removed slows the next
// build's inode allocations; see scripts/fleet-bench.sh).

// changedFolder is the deepest folder, as a slash path below the output
// folder, that holds every path of changed; "" when that is the output
// folder itself.
func changedFolder(changed []string) string {
	common := ""
	for i, p := range changed {
		d := path.Dir(p)
		if d == "." {
			return ""
		}
		if i == 0 {
			common = d
			continue
		}
		for common != "" && d != common && !strings.HasPrefix(d, common+"/") {
			if common = path.Dir(common); common == "." {
				return ""
			}
		}
	}
	return common
}

// changes lists what a write changes on disk: the files of tree that dir
// does not already hold byte for byte as meshc's regular files (new,
// changed, or to be written afresh over a symlink), and those removed.
func changes(tree render.Tree, same map[string]bool, s Summary) []string {
	var out []string
	for p := range tree {
		if !same[p] {
			out = append(out, p)
		}
	}
	return append(out, s.Removed...)
}

// subtreeReason says why folder sub of dir cannot be exchanged alone, or
// "" when it can: it must be a plain folder of the old tree that the new
// tree keeps, on dir's filesystem, writable with its parent (renaming a
// folder rewrites its ".."), on a system that tells a folder's identity
// (pending.go) and exchanges two folders atomically.
func subtreeReason(dir, sub string, tree render.Tree) string {
	old := filepath.Join(dir, filepath.FromSlash(sub))
	fi, err := os.Lstat(old)
	kept := false
	for p := range tree {
		if strings.HasPrefix(p, sub+"/") {
			kept = true
			break
		}
	}
	_, identified := folderID(old)
	switch {
	case err != nil || !fi.IsDir():
		return "it is not a folder of the old tree"
	case !kept:
		return "the new tree has nothing there"
	case !identified || !atomicExchange:
		return "this system cannot exchange a folder alone"
	case !sameDevice(old, dir):
		return "it or a folder above it is a mount point"
	case !writable(old) || !writable(filepath.Dir(old)):
		return "it or its parent is read-only"
	}
	return ""
}

// exchangeError is a staged folder that could not be exchanged for the
// live one: nothing changed, and the caller may write another way.
type exchangeError struct{ err error }

func (e *exchangeError) Error() string { return e.err.Error() }
func (e *exchangeError) Unwrap() error { return e.err }

// writeSubtree makes dir hold tree by exchanging folder sub alone (see
// above): the subtree is staged inside dir (so on its filesystem, and
// skipped as a build's by every walk), unchanged files hard-linked into it
// as writeSwapped does, the user's files kept, then exchanged in one
// renameat2(RENAME_EXCHANGE).
//
// The manifest, at the top, cannot change in the same step. When the
// paths change, it first gets a pending block: the staged folder's
// identity, the paths the exchange adds and those it drops. A reader
// applies them only if the live folder is the staged one (exchanged), so
// whenever the process stops the manifest lists exactly meshc's files: the
// old ones until the exchange, the new ones after. Then the manifest is
// written again without the block.
func writeSubtree(dir, sub string, tree render.Tree, p planned) error {
	staging, err := os.MkdirTemp(dir, stagingPrefix)
	if err != nil {
		return err
	}
	// The new subtree on failure, the old one on success.
	defer removeTree(staging)

	subTree, subSame, subOwned := below(sub, tree, p.same, p.owned)
	old := filepath.Join(dir, filepath.FromSlash(sub))
	next := filepath.Join(staging, "tree")
	if err := os.Mkdir(next, 0o755); err != nil {
		return err
	}
	staged, err := writeTree(next, subTree, old, subSame)
	if err != nil {
		return err
	}
	if err := keepForeign(old, next, subOwned, staged, false); err != nil {
		return err
	}
	if err := os.Chmod(next, dirMode(old)); err != nil {
		return err
	}

	want := manifest(tree)
	moved := !bytes.Equal(p.manifest, want)
	if moved {
		id, ok := folderID(next)
		if !ok {
			return &exchangeError{errors.New("the staged folder's identity is unknown")}
		}
		step := changeAt(sub, id, false, p.owned, tree)
		if err := replaceManifest(dir, staging, pendingManifest(p.owned, []pendingChange{step})); err != nil {
			return err
		}
	}
	// Only a true exchange: the two renames swap falls back to leave the
	// folder missing for a moment, which the whole tree's ways handle.
	if err := exchange(next, old); err != nil {
		// The live tree is as it was; so is the manifest, put back (the
		// pending block would not apply anyway: the live folder is not the
		// staged one).
		if moved {
			if p.manifest != nil {
				_ = replaceManifest(dir, staging, p.manifest)
			} else {
				_ = os.Remove(filepath.Join(dir, ManifestName))
			}
		}
		return &exchangeError{err}
	}
	if err := stopHere(); err != nil {
		return err
	}
	if moved {
		if err := replaceManifest(dir, staging, want); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(old))
}

// below is what lies below folder (a slash path) of tree, same and owned,
// by paths relative to it.
func below(folder string, tree render.Tree, same map[string]bool, owned []string) (render.Tree, map[string]bool, []string) {
	prefix := folder + "/"
	subTree, subSame := render.Tree{}, map[string]bool{}
	for p, b := range tree {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			subTree[rest] = b
			subSame[rest] = same[p]
		}
	}
	var subOwned []string
	for _, p := range owned {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			subOwned = append(subOwned, rest)
		}
	}
	return subTree, subSame, subOwned
}

// replaceManifest puts data in place of dir's manifest in one rename,
// written first in staging (inside dir, so on its filesystem).
func replaceManifest(dir, staging string, data []byte) error {
	tmp := filepath.Join(staging, ManifestName)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestName))
}
