package output

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"meshc.dev/meshc/compiler/render"
)

func TestChangedFolder(t *testing.T) {
	for _, c := range []struct {
		changed []string
		want    string
	}{
		{[]string{"clusters/c1/ns/a.yaml"}, "clusters/c1/ns"},
		{[]string{"clusters/c1/ns/a.yaml", "clusters/c1/ns/b.yaml"}, "clusters/c1/ns"},
		{[]string{"clusters/c1/ns/a.yaml", "clusters/c1/kustomization.yaml"}, "clusters/c1"},
		{[]string{"clusters/c1/ns/a.yaml", "clusters/c2/ns/a.yaml"}, "clusters"},
		{[]string{"clusters/c1/a.yaml", "clusters/c10/a.yaml"}, "clusters"}, // c1 is no prefix of c10
		{[]string{"clusters/c1/a.yaml", "delivery/a.yaml"}, ""},
		{[]string{"kustomization.yaml"}, ""},
		{[]string{"clusters/c1/a.yaml", "kustomization.yaml"}, ""},
		{nil, ""},
	} {
		if got := changedFolder(c.changed); got != c.want {
			t.Errorf("changedFolder(%q) = %q, want %q", c.changed, got, c.want)
		}
	}
}

// sameFolder tells whether the folder at p is the same one (inode) as
// before.
func sameFolder(t *testing.T, before os.FileInfo, p string) bool {
	t.Helper()
	after, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(before, after)
}

func stat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// A change inside one folder exchanges that folder alone: every folder
// around it is the one that was there, the user's files in it are kept,
// and the manifest follows a renamed file.
func TestEditExchangesOnlyItsFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	tree["clusters/c2/namespaces/app-3.yaml"] = []byte("kind: Namespace\n")
	mustWrite(t, dir, tree)
	writeFile(t, filepath.Join(dir, "clusters/c2/namespaces/mine.txt"), "mine\n")
	if err := os.Chmod(filepath.Join(dir, "clusters/c2/namespaces"), 0o750); err != nil {
		t.Fatal(err)
	}
	top, c1, c2, ns := stat(t, dir), stat(t, filepath.Join(dir, "clusters/c1")),
		stat(t, filepath.Join(dir, "clusters/c2")), stat(t, filepath.Join(dir, "clusters/c2/namespaces"))
	kept := stat(t, filepath.Join(dir, "clusters/c2/namespaces/app-3.yaml"))
	mine := stat(t, filepath.Join(dir, "clusters/c2/namespaces/mine.txt"))

	// A namespace renamed: one file out, one in, both in one folder.
	next := cloneTree(tree)
	delete(next, "clusters/c2/namespaces/app-2.yaml")
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	s := mustWrite(t, dir, next)
	if !slices.Equal(s.Written, []string{"clusters/c2/namespaces/app-x.yaml"}) ||
		!slices.Equal(s.Removed, []string{"clusters/c2/namespaces/app-2.yaml"}) {
		t.Errorf("summary = %+v", s)
	}
	wantFiles(t, dir, next, map[string]string{"clusters/c2/namespaces/mine.txt": "mine\n"})
	for name, fi := range map[string]os.FileInfo{".": top, "clusters/c1": c1, "clusters/c2": c2} {
		if !sameFolder(t, fi, filepath.Join(dir, name)) {
			t.Errorf("%s was replaced; only the folder of the change should be", name)
		}
	}
	got := stat(t, filepath.Join(dir, "clusters/c2/namespaces"))
	if os.SameFile(ns, got) {
		t.Error("the changed folder was written in place, not exchanged")
	}
	if got.Mode().Perm() != 0o750 {
		t.Errorf("the changed folder's mode is %v, want the user's 0750", got.Mode().Perm())
	}
	if !os.SameFile(kept, stat(t, filepath.Join(dir, "clusters/c2/namespaces/app-3.yaml"))) {
		t.Error("an unchanged file was written again instead of linked")
	}
	if !os.SameFile(mine, stat(t, filepath.Join(dir, "clusters/c2/namespaces/mine.txt"))) {
		t.Error("the user's file was copied, not kept")
	}
	noStaging(t, parent)
	noStagingInside(t, dir)
	if s := mustWrite(t, dir, next); !s.Unchanged {
		t.Errorf("rewrite: %+v", s)
	}
}

// Whenever a subtree write stops, the manifest lists every file of meshc's
// on disk: the union of the old and new paths before the exchange, the new
// ones after. From either state the next build finishes the job: no file
// of meshc's is refused as the user's, none is left behind.
func TestSubtreeWriteInterruptedRecovers(t *testing.T) {
	tree := sampleTree()
	next := cloneTree(tree)
	delete(next, "clusters/c2/namespaces/app-2.yaml")
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	union := slices.Concat(tree.Paths(), next.Paths())
	slices.Sort(union)
	union = slices.Compact(union)

	for name, onDisk := range map[string]render.Tree{"before the exchange": tree, "after the exchange": next} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			mustWrite(t, dir, onDisk)
			writeFile(t, filepath.Join(dir, ManifestName), string(manifestOf(union)))
			// What a reader (meshc diff --against) finds there meanwhile is
			// the tree on disk, not an error about a listed file.
			if got, err := Read(dir); err != nil || !treesEqual(got, onDisk) {
				t.Errorf("Read during the write: %v, %v", got.Paths(), err)
			}
			mustWrite(t, dir, next)
			wantFiles(t, dir, next, nil)
			noStagingInside(t, dir)
		})
	}
}

// A build run from inside the folder it changes writes the tree all the
// same: every path it uses is absolute. (The shell is left in the folder
// that was replaced, as with any tree exchanged whole; only the output
// folder itself, -o ., is written in place to spare it.)
func TestEditFromInsideTheChangedFolder(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	t.Chdir(filepath.Join(dir, "clusters/c2/namespaces"))
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-2.yaml"] = []byte("kind: Namespace\nmetadata: {}\n")
	mustWrite(t, dir, next)
	wantFiles(t, dir, next, nil)
	noStaging(t, parent)
	noStagingInside(t, dir)
}

func treesEqual(a, b render.Tree) bool {
	if len(a) != len(b) {
		return false
	}
	for p, x := range a {
		if y, ok := b[p]; !ok || string(x) != string(y) {
			return false
		}
	}
	return true
}
