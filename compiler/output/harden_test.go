package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"meshc.dev/meshc/compiler/render"
)

// Builds into one folder at once are serialised: every one succeeds, and
// the folder ends up holding exactly one of the trees, its manifest
// listing exactly its files, with no staging folder left.
func TestConcurrentWritesSerialised(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	trees := make([]render.Tree, 6)
	for i := range trees {
		trees[i] = sampleTree()
		trees[i][fmt.Sprintf("clusters/c%d/only-%d.yaml", i%3+1, i)] = []byte(fmt.Sprintf("n: %d\n", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(trees)*3)
	for round := range 3 {
		for i, tree := range trees {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[round*len(trees)+i] = Write(dir, tree)
			}()
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("concurrent Write: %v", err)
		}
	}
	got := files(t, dir)
	matched := false
	for _, tree := range trees {
		want := map[string]string{ManifestName: string(manifest(tree))}
		for p, b := range tree {
			want[p] = string(b)
		}
		matched = matched || mapsEqual(got, want)
	}
	if !matched {
		t.Errorf("the folder holds a mix of trees: %v", got)
	}
	noStaging(t, parent)
}

// A build that finds the folder locked for longer than LockWait says so.
func TestLockedFolderFailsClearly(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	unlock, ok, err := lockFolder(parent, 0)
	if err != nil || !ok {
		t.Fatalf("lockFolder: %v, %v", ok, err)
	}
	defer unlock()
	defer func(old time.Duration) { LockWait = old }(LockWait)
	LockWait = 100 * time.Millisecond
	_, err = Write(dir, sampleTree())
	var folder *FolderError
	if !errors.As(err, &folder) || !strings.Contains(err.Error(), "being written by another meshc build") {
		t.Fatalf("Write into a locked folder: %v", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("something was written: %v", err)
	}
}

// Staging folders of killed builds go on the next build; nothing that
// merely looks like one does.
func TestStaleStagingRemoved(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	stale := []string{
		filepath.Join(parent, ".out.meshc-123456"),
		filepath.Join(parent, ".out.meshc-98765.old"),
		filepath.Join(dir, ".meshc-staging-4242"),
	}
	for _, s := range stale {
		writeFile(t, filepath.Join(s, "clusters", "c1", "istio.yaml"), "half written\n")
		// Killed builds leave the modes of the user's folders, read-only ones
		// too.
		if err := os.Chmod(filepath.Join(s, "clusters"), 0o555); err != nil {
			t.Fatal(err)
		}
	}
	kept := []string{
		filepath.Join(parent, ".out.meshc-notdigits"),
		filepath.Join(parent, ".other.meshc-123"),
		filepath.Join(parent, "out.meshc-123"),
		filepath.Join(dir, ".meshc-staging-x"),
	}
	for _, k := range kept {
		writeFile(t, filepath.Join(k, "keep.txt"), "mine\n")
	}
	writeFile(t, filepath.Join(parent, ".out.meshc-777"), "a file, not a staging folder\n")
	target := filepath.Join(parent, "target")
	writeFile(t, filepath.Join(target, "keep.txt"), "mine\n")
	if err := os.Symlink(target, filepath.Join(parent, ".out.meshc-888")); err != nil {
		t.Fatal(err)
	}

	next := cloneTree(tree)
	next["clusters/c1/istio.yaml"] = []byte("changed\n")
	mustWrite(t, dir, next)
	for _, s := range stale {
		if _, err := os.Lstat(s); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale staging folder %s left: %v", s, err)
		}
	}
	for _, k := range append(kept, filepath.Join(parent, ".out.meshc-777"), filepath.Join(parent, ".out.meshc-888"), filepath.Join(target, "keep.txt")) {
		if _, err := os.Lstat(k); err != nil {
			t.Errorf("%s removed: %v", k, err)
		}
	}
	// The user's .meshc-staging-x is theirs: kept, as a foreign folder.
	if got := files(t, dir)[".meshc-staging-x/keep.txt"]; got != "mine\n" {
		t.Errorf("foreign folder inside the output lost: %q", got)
	}
}

// -o . (or any folder holding the working directory) is written in place:
// the folder itself stays, so the shell standing in it is not left in a
// removed folder; the tree is right all the same.
func TestWorkingDirectoryWrittenInPlace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	writeFile(t, filepath.Join(dir, "clusters", "c1", "mine.txt"), "mine\n")
	writeFile(t, filepath.Join(dir, "notes.txt"), "notes\n")
	mineBefore, _ := os.Stat(filepath.Join(dir, "clusters", "c1", "mine.txt"))
	keptBefore, _ := os.Stat(filepath.Join(dir, "clusters", "c2", "istio.yaml"))
	before, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	next := cloneTree(tree)
	delete(next, "clusters/c2/namespaces/app-2.yaml")
	delete(next, "kustomization.yaml")
	next["clusters/c1/istio.yaml"] = []byte("changed\n")
	next["delivery/flux.yaml"] = []byte("kind: Kustomization\n")
	s := mustWrite(t, dir, next)
	if !strings.Contains(fmt.Sprint(s.Removed), "clusters/c2/namespaces/app-2.yaml") || !strings.Contains(fmt.Sprint(s.Removed), "kustomization.yaml") {
		t.Errorf("summary %+v", s)
	}
	after, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the output folder was replaced, not written in place")
	}
	if wd, err := os.Getwd(); err != nil || filepath.Base(wd) != "out" {
		t.Errorf("working directory: %q, %v", wd, err)
	}
	wantFiles(t, dir, next, map[string]string{"clusters/c1/mine.txt": "mine\n", "notes.txt": "notes\n"})
	if mineAfter, _ := os.Stat(filepath.Join(dir, "clusters", "c1", "mine.txt")); !os.SameFile(mineBefore, mineAfter) {
		t.Error("a foreign file was copied, not kept")
	}
	if keptAfter, _ := os.Stat(filepath.Join(dir, "clusters", "c2", "istio.yaml")); !os.SameFile(keptBefore, keptAfter) {
		t.Error("an unchanged file was written again instead of linked into the new tree")
	}
	noStaging(t, parent)
	noStagingInside(t, dir)

	// Up to date, then everything of meshc's gone but the user's files.
	if s := mustWrite(t, dir, next); !s.Unchanged {
		t.Errorf("rewrite: %+v", s)
	}
	mustWrite(t, dir, render.Tree{"delivery/flux.yaml": []byte("kind: Kustomization\n")})
	wantFiles(t, dir, render.Tree{"delivery/flux.yaml": []byte("kind: Kustomization\n")},
		map[string]string{"clusters/c1/mine.txt": "mine\n", "notes.txt": "notes\n"})
	noStagingInside(t, dir)
}

// An output folder whose parent is read-only (as a container volume's
// mount point cannot be renamed either) is written in place.
func TestReadOnlyParentWrittenInPlace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	before, _ := os.Stat(dir)
	if err := os.Chmod(parent, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(parent, 0o755)
	next := cloneTree(tree)
	next["clusters/c2/istio.yaml"] = []byte("changed\n")
	mustWrite(t, dir, next)
	wantFiles(t, dir, next, nil)
	if after, _ := os.Stat(dir); !os.SameFile(before, after) {
		t.Error("the output folder was replaced")
	}
	noStagingInside(t, dir)

	// A folder that does not exist yet cannot be created there.
	_, err := Write(filepath.Join(parent, "new"), tree)
	var folder *FolderError
	if !errors.As(err, &folder) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Write into a read-only parent: %v", err)
	}
}

// A read-only output folder, or a read-only folder meshc must change in it,
// is respected: nothing is written, and the error says why.
func TestReadOnlyFolderRespected(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	next := cloneTree(tree)
	next["clusters/c1/istio.yaml"] = []byte("changed\n")

	for _, ro := range []string{dir, filepath.Join(dir, "clusters", "c1")} {
		if err := os.Chmod(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		before := files(t, dir)
		_, err := Write(dir, next)
		var folder *FolderError
		if !errors.As(err, &folder) || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s read-only: %v", ro, err)
		}
		if got := files(t, dir); !mapsEqual(got, before) {
			t.Errorf("%s read-only: folder changed", ro)
		}
		noStaging(t, parent)
		if err := os.Chmod(ro, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Up to date is fine, read-only or not: nothing to write.
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	if s := mustWrite(t, dir, tree); !s.Unchanged {
		t.Errorf("up-to-date read-only folder: %+v", s)
	}
}

// A foreign read-only folder carried over to the new tree leaves no old
// tree behind when the old one is removed.
func TestOldTreeWithReadOnlyFoldersRemoved(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	writeFile(t, filepath.Join(dir, "docs", "locked", "a.txt"), "mine\n")
	if err := os.Chmod(filepath.Join(dir, "docs", "locked"), 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "docs", "locked"), 0o755)
	next := cloneTree(tree)
	next["clusters/c1/istio.yaml"] = []byte("changed\n")
	mustWrite(t, dir, next)
	noStaging(t, parent)
	wantFiles(t, dir, next, map[string]string{"docs/locked/a.txt": "mine\n"})
}

// A manifest listing paths outside the folder was not written by meshc:
// refused as tampered, by Write and Plan, and nothing is removed or
// claimed removed.
func TestTamperedManifestRefused(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	victim := filepath.Join(parent, "victim.txt")
	writeFile(t, victim, "precious\n")
	for _, bad := range []string{"../victim.txt", victim, "clusters/../../victim.txt", ManifestName, "./kustomization.yaml"} {
		writeFile(t, filepath.Join(dir, ManifestName), string(manifest(tree))+bad+"\n")
		before := files(t, dir)
		for name, f := range map[string]func() error{
			"Write": func() error { _, err := Write(dir, sampleTree()); return err },
			"Plan":  func() error { _, err := Plan(dir, sampleTree()); return err },
		} {
			err := f()
			var folder *FolderError
			if !errors.As(err, &folder) || !strings.Contains(err.Error(), "lists paths outside the folder") {
				t.Errorf("%s with %q in the manifest: %v", name, bad, err)
			}
		}
		if got := files(t, dir); !mapsEqual(got, before) {
			t.Errorf("%q in the manifest: folder changed", bad)
		}
		if b, err := os.ReadFile(victim); err != nil || string(b) != "precious\n" {
			t.Errorf("victim: %q, %v", b, err)
		}
	}
}

func noStagingInside(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPrefix) {
			t.Errorf("staging folder left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}

// stopAfter makes the next write stop after its n-th step, as a killed
// build would (its staging folder aside, which the next build removes).
func stopAfter(t *testing.T, n int) {
	t.Helper()
	steps := 0
	stopHere = func() error {
		if steps++; steps == n {
			return errors.New("stopped")
		}
		return nil
	}
	t.Cleanup(func() { stopHere = func() error { return nil } })
}

// A build writing in place that stops between its top-level steps leaves
// a manifest listing exactly what is on disk: the next build takes the
// files of the steps done as meshc's (no conflict over its own files) and
// finishes; a file the user makes meanwhile where a step not done would
// have put one of meshc's stays the user's.
func TestInPlaceWriteInterruptedRecovers(t *testing.T) {
	tree := sampleTree()
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	delete(next, "kustomization.yaml")
	next["delivery/flux.yaml"] = []byte("kind: Kustomization\n")
	// Steps in order: clusters (app-x added), delivery (added),
	// kustomization.yaml (removed).
	for n := 1; n <= 3; n++ {
		t.Run(fmt.Sprint("stopped after step ", n), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			mustWrite(t, dir, tree)
			t.Chdir(dir) // -o .: written in place
			stopAfter(t, n)
			if _, err := Write(dir, next); err == nil {
				t.Fatal("the write did not stop")
			}
			stopHere = func() error { return nil }
			owned, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range owned {
				if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
					t.Errorf("the manifest lists %s, which is not there", p)
				}
			}
			for p := range files(t, dir) {
				if p != ManifestName && !slices.Contains(owned, p) {
					t.Errorf("%s is on disk but not listed", p)
				}
			}
			if n == 1 { // delivery/ not put in place: its file may be the user's
				writeFile(t, filepath.Join(dir, "delivery/flux.yaml"), "the user's\n")
				if _, err := Write(dir, next); !errors.As(err, new(*ConflictError)) {
					t.Errorf("a build that must write delivery/flux.yaml: %v, want a conflict over the user's file", err)
				}
				if err := os.RemoveAll(filepath.Join(dir, "delivery")); err != nil {
					t.Fatal(err)
				}
			}
			mustWrite(t, dir, next)
			wantFiles(t, dir, next, nil)
			noStagingInside(t, dir)
		})
	}
}

// The one-folder exchange, stopped after it but before the manifest: the
// pending block applies, and the next build finishes.
func TestSubtreeWriteStoppedAfterExchange(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	next := cloneTree(tree)
	delete(next, "clusters/c2/namespaces/app-2.yaml")
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	stopAfter(t, 1)
	if _, err := Write(dir, next); err == nil {
		t.Fatal("the write did not stop")
	}
	stopHere = func() error { return nil }
	if owned, err := ReadManifest(dir); err != nil || !slices.Equal(owned, next.Paths()) {
		t.Errorf("manifest = %v, %v; want the new paths", owned, err)
	}
	mustWrite(t, dir, next)
	wantFiles(t, dir, next, nil)
	noStagingInside(t, dir)
}

// A build whose two-rename swap (no atomic exchange) stopped between its
// renames left the live tree aside as .<dir>.meshc-<digits>.old and no
// output folder: the next build puts it back, the user's files in it, not
// removes it.
func TestSwapStoppedBetweenRenamesPutBack(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	writeFile(t, filepath.Join(dir, "notes.txt"), "mine\n")
	if err := os.Rename(dir, filepath.Join(parent, ".out.meshc-123.old")); err != nil {
		t.Fatal(err)
	}
	next := cloneTree(tree)
	next["clusters/c1/istio.yaml"] = []byte("changed\n")
	mustWrite(t, dir, next)
	wantFiles(t, dir, next, map[string]string{"notes.txt": "mine\n"})
	noStaging(t, parent)
}
