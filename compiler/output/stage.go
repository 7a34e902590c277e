package output

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"

	"meshc.dev/meshc/compiler/render"
)

// writeInPlace makes dir hold tree without replacing dir itself, for an
// output folder that cannot be swapped: a mount point (a container
// volume), a folder in a read-only parent, or the folder meshc runs in
// (-o .).
//
// The new tree is staged inside dir, in .meshc-staging-*, so every rename
// stays on dir's filesystem; then each top-level entry meshc owns
// (clusters/, delivery/, ...) is exchanged for its staged version in one
// atomic renameat2(RENAME_EXCHANGE), and the manifest is renamed over last.
// A reader sees each top-level folder whole, old or new, but for the
// moment between two exchanges one folder may be new and another old: the
// guarantee narrows from the whole tree to each top-level entry. A crash
// leaves every entry old or new, and the next build removes the staging
// folder and finishes the job.
//
// Files in same, which dir holds already, are hard-linked into the staged
// tree rather than written again (see writeSwapped).
func writeInPlace(dir string, tree render.Tree, p planned) error {
	staging, err := os.MkdirTemp(dir, stagingPrefix)
	if err != nil {
		return err
	}
	defer removeTree(staging)

	tops := map[string]bool{}
	for _, f := range slices.Concat(tree.Paths(), p.owned) {
		tops[topOf(f)] = true
	}
	names := make([]string, 0, len(tops))
	for t := range tops {
		names = append(names, t)
	}
	slices.Sort(names)

	staged := map[string]bool{} // top-level entries with something staged
	for _, top := range names {
		sub, subSame, subOwned := below(top, tree, p.same, p.owned)
		if b, ok := tree[top]; ok { // a file at the top
			if err := os.WriteFile(filepath.Join(staging, top), b, 0o644); err != nil {
				return err
			}
			staged[top] = true
			continue
		}
		target := filepath.Join(staging, top)
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
		subStaged, err := writeTree(target, sub, filepath.Join(dir, top), subSame)
		if err != nil {
			return err
		}
		old := filepath.Join(dir, top)
		if fi, err := os.Lstat(old); err == nil && fi.IsDir() {
			if err := keepForeign(old, target, subOwned, subStaged, false); err != nil {
				return err
			}
			if err := os.Chmod(target, dirMode(old)); err != nil {
				return err
			}
		}
		if entries, err := os.ReadDir(target); err != nil {
			return err
		} else if len(entries) > 0 {
			staged[top] = true
		}
	}
	// When the list of meshc's files changes, the manifest first records
	// the steps below as pending (pending.go): a build stopped between two
	// of them leaves a manifest listing exactly what is on disk.
	want := manifest(tree)
	if !bytes.Equal(p.manifest, want) {
		if steps, ok := inPlaceSteps(dir, staging, names, staged, p.owned, tree); ok && len(steps) > 0 {
			if err := replaceManifest(dir, staging, pendingManifest(p.owned, steps)); err != nil {
				return err
			}
		}
	}
	if err := syncDir(staging); err != nil {
		return err
	}

	for _, top := range names {
		live, next := filepath.Join(dir, top), filepath.Join(staging, top)
		_, err := os.Lstat(live)
		liveExists := err == nil
		switch {
		case staged[top] && liveExists:
			if err := swap(next, live); err != nil {
				return err
			}
		case staged[top]:
			if err := os.Rename(next, live); err != nil {
				return err
			}
		case liveExists:
			// Nothing of meshc's is left there, nor anything of the user's:
			// move it out, to go with the staging folder.
			if err := os.Rename(live, filepath.Join(staging, ".gone-"+top)); err != nil {
				return err
			}
		}
		if err := stopHere(); err != nil {
			return err
		}
	}
	if err := replaceManifest(dir, staging, want); err != nil {
		return err
	}
	return syncDir(dir)
}

// inPlaceSteps are writeInPlace's steps that change the list owned towards
// tree: each staged top-level entry put in place, each live one that goes.
// ok is false on a system that does not tell an entry's identity.
func inPlaceSteps(dir, staging string, names []string, staged map[string]bool, owned []string, tree render.Tree) (steps []pendingChange, ok bool) {
	for _, top := range names {
		live := filepath.Join(dir, top)
		var step pendingChange
		switch {
		case staged[top]:
			id, known := folderID(filepath.Join(staging, top))
			if !known {
				return nil, false
			}
			step = changeAt(top, id, false, owned, tree)
		default:
			id, known := folderID(live)
			if !known {
				continue // nothing there: no step
			}
			step = changeAt(top, id, true, owned, tree)
		}
		if len(step.adds) > 0 || len(step.drops) > 0 {
			steps = append(steps, step)
		}
	}
	return steps, true
}

// topOf is the first element of a slash path.
func topOf(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// isStaging tells whether rel (relative to the output folder) is a
// staging folder of a build writing in place.
func isStaging(rel string) bool {
	return stagingInside.MatchString(rel)
}

// stagingInside matches the staging folders of builds writing in place:
// .meshc-staging- and the digits os.MkdirTemp adds.
var stagingInside = regexp.MustCompile(`^` + regexp.QuoteMeta(stagingPrefix) + `[0-9]+$`)

// removeStale removes what builds killed midway left behind: staging
// folders beside dir (.<dir>.meshc-<digits>, and .old ones of the
// two-rename swap, put back instead when dir is missing) and inside it
// (.meshc-staging-<digits>). It runs under
// the lock, so no live build owns them; only folders with exactly those
// names are touched, never a symlink or a file.
func removeStale(parent, dir string) error {
	beside := regexp.MustCompile(`^` + regexp.QuoteMeta("."+filepath.Base(dir)+".meshc-") + `[0-9]+(\.old)?$`)
	for _, place := range []struct {
		folder  string
		pattern *regexp.Regexp
	}{{parent, beside}, {dir, stagingInside}} {
		entries, err := os.ReadDir(place.folder)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.IsDir() || e.Type()&fs.ModeSymlink != 0 || !place.pattern.MatchString(e.Name()) {
				continue
			}
			if place.folder == parent && strings.HasSuffix(e.Name(), ".old") {
				if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
					// A two-rename swap stopped between its renames: this
					// is the tree that was live, the user's files in it.
					if err := os.Rename(filepath.Join(parent, e.Name()), dir); err != nil {
						return err
					}
					continue
				}
			}
			if err := removeTree(filepath.Join(place.folder, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeTree removes a tree meshc staged or swapped out, read-only folders
// included: those carry the modes of the user's folders, and RemoveAll
// cannot empty a folder it may not write.
func removeTree(root string) error {
	folders, err := removeFiles(root)
	if err == nil {
		err = removeFolders(folders)
	}
	if err == nil {
		return nil
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Type()&fs.ModeSymlink == 0 {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(root)
}

// removeFiles removes the files below root, the folders' files several
// folders at a time, leaving the empty folders, which it returns (root
// first, every parent before its children): a fleet's old tree has tens of
// thousands of files, and unlinking them one after the other is most of
// what a small edit costs.
func removeFiles(root string) ([]string, error) {
	var g errgroup.Group
	g.SetLimit(8)
	var folders []string
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		folders = append(folders, dir)
		g.Go(func() error {
			for _, e := range entries {
				if e.IsDir() {
					continue
				}
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			return nil
		})
		for _, e := range entries {
			if e.IsDir() { // a symlink to a folder is a file here: unlinked
				if err := walk(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk(root)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil // nothing there, or removed under us
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	return folders, err
}

// removeFolders removes folders emptied by removeFiles, each with one
// rmdir, children before parents: it fails on a folder that is not empty
// (something appeared in it), for removeTree to remove the rest its slower
// way.
func removeFolders(folders []string) error {
	for i := len(folders) - 1; i >= 0; i-- {
		// syscall.Rmdir, not os.Remove: that tries unlink first, a
		// wasted system call per folder.
		if err := syscall.Rmdir(folders[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "rmdir", Path: folders[i], Err: err}
		}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
