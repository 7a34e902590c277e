package output

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
	return os.SameFile(before, stat(t, p))
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

// Whenever a subtree write stops, the manifest lists exactly meshc's
// files: before the exchange its pending block does not apply (the live
// folder is not the staged one), after it, it does. From either state the
// next build finishes the job, and a file the user makes meanwhile at a
// path the exchange would have added stays the user's.
func TestSubtreeWriteInterruptedRecovers(t *testing.T) {
	tree := sampleTree()
	next := cloneTree(tree)
	delete(next, "clusters/c2/namespaces/app-2.yaml")
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	const sub = "clusters/c2/namespaces"

	t.Run("before the exchange", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		mustWrite(t, dir, tree)
		staged := filepath.Join(dir, stagingPrefix+"7", "tree") // left by the killed build
		if err := os.MkdirAll(staged, 0o755); err != nil {
			t.Fatal(err)
		}
		id, ok := folderID(staged)
		if !ok {
			t.Skip("no folder identities on this system")
		}
		writeFile(t, filepath.Join(dir, ManifestName), string(pendingManifest(tree.Paths(), []pendingChange{changeAt(sub, id, false, tree.Paths(), next)})))
		if owned, err := ReadManifest(dir); err != nil || !slices.Equal(owned, tree.Paths()) {
			t.Errorf("manifest = %v, %v; want the old paths", owned, err)
		}
		// The user's file where the exchange would have put meshc's.
		writeFile(t, filepath.Join(dir, sub, "app-x.yaml"), "the user's\n")
		if _, err := Write(dir, next); !errors.As(err, new(*ConflictError)) {
			t.Errorf("a build that must write app-x.yaml: %v, want a conflict over the user's file", err)
		}
		mustWrite(t, dir, tree)
		wantFiles(t, dir, tree, map[string]string{sub + "/app-x.yaml": "the user's\n"})
		noStagingInside(t, dir)
	})
	t.Run("after the exchange", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		mustWrite(t, dir, next)
		id, ok := folderID(filepath.Join(dir, sub))
		if !ok {
			t.Skip("no folder identities on this system")
		}
		writeFile(t, filepath.Join(dir, ManifestName), string(pendingManifest(tree.Paths(), []pendingChange{changeAt(sub, id, false, tree.Paths(), next)})))
		if owned, err := ReadManifest(dir); err != nil || !slices.Equal(owned, next.Paths()) {
			t.Errorf("manifest = %v, %v; want the new paths", owned, err)
		}
		if got, err := Read(dir); err != nil || !treesEqual(got, next) {
			t.Errorf("Read: %v, %v", got.Paths(), err)
		}
		if s := mustWrite(t, dir, next); len(s.Written) != 0 || len(s.Removed) != 0 {
			t.Errorf("summary = %+v, want nothing but the manifest", s)
		}
		wantFiles(t, dir, next, nil) // the manifest without its pending block
		mustWrite(t, dir, tree)
		wantFiles(t, dir, tree, nil)
	})
}

// A pending block's paths are checked like the list's: one outside the
// folder is refused as tampered with.
func TestPendingBlockTamperedRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	for _, line := range []string{addsPrefix + "../victim.txt", dropsPrefix + "/etc/passwd"} {
		writeFile(t, filepath.Join(dir, ManifestName), string(manifest(tree))+exchangePrefix+"1:2 clusters\n"+line+"\n")
		if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "lists paths outside the folder") {
			t.Errorf("%q: %v", line, err)
		}
	}
}

// A folder named as a staging folder below the top is the user's, and is
// kept by an edit of the folder holding it.
func TestStagingLookAlikeBelowTopKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	mine := filepath.Join(dir, "clusters/c2/namespaces", stagingPrefix+"1", "notes.txt")
	writeFile(t, mine, "mine\n")
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-2.yaml"] = []byte("kind: Namespace\nmetadata: {}\n")
	mustWrite(t, dir, next)
	wantFiles(t, dir, next, map[string]string{"clusters/c2/namespaces/" + stagingPrefix + "1/notes.txt": "mine\n"})
}

// A dangling symlink of the user's where meshc must write a file is a
// conflict, as any file of theirs, not an error from the staged tree.
func TestForeignDanglingSymlinkConflicts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	if err := os.Symlink("nowhere", filepath.Join(dir, "clusters/c2/namespaces/app-x.yaml")); err != nil {
		t.Fatal(err)
	}
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	var conflict *ConflictError
	if _, err := Write(dir, next); !errors.As(err, &conflict) || !slices.Equal(conflict.Paths, []string{"clusters/c2/namespaces/app-x.yaml"}) {
		t.Errorf("Write: %v, want a conflict over app-x.yaml", err)
	}
}

// A changed folder that refuses the exchange (a bind mount of the same
// filesystem, which st_dev does not tell apart) leaves the manifest as it
// was and is written the whole tree's way. Needs the right to mount.
func TestBindMountedFolderFallsBack(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	src := filepath.Join(base, "src")
	ns := filepath.Join(dir, "clusters/c2/namespaces")
	if err := os.CopyFS(src, os.DirFS(ns)); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", src, ns).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount here: %v %s", err, out)
	}
	// The whole tree's way moves the old tree, mount and all, beside the
	// output folder: unmount it wherever it went.
	t.Cleanup(func() {
		mounts, _ := os.ReadFile("/proc/self/mounts")
		for _, line := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], base+"/") {
				_ = exec.Command("umount", f[1]).Run()
			}
		}
	})
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	if _, err := Write(dir, next); err != nil {
		// Whatever fails, nothing may claim files that are not there.
		if owned, _ := ReadManifest(dir); !slices.Equal(owned, tree.Paths()) {
			t.Errorf("Write failed (%v) and the manifest lists %v", err, owned)
		}
		return
	}
	wantFiles(t, dir, next, nil)
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
	c1 := stat(t, filepath.Join(dir, "clusters/c1"))
	t.Chdir(filepath.Join(dir, "clusters/c2/namespaces"))
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-2.yaml"] = []byte("kind: Namespace\nmetadata: {}\n")
	mustWrite(t, dir, next)
	if !sameFolder(t, c1, filepath.Join(dir, "clusters/c1")) {
		t.Error("clusters/c1 was replaced: the change's folder was not exchanged alone")
	}
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

// A pipe of the user's where meshc must write a file is a conflict, found
// without opening it (which would wait for a writer forever).
func TestForeignPipeConflicts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	tree := sampleTree()
	mustWrite(t, dir, tree)
	pipe := filepath.Join(dir, "clusters/c2/namespaces/app-x.yaml")
	if err := mkfifo(pipe); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	next := cloneTree(tree)
	next["clusters/c2/namespaces/app-x.yaml"] = []byte("kind: Namespace\n")
	done := make(chan error, 1)
	go func() { _, err := Write(dir, next); done <- err }()
	select {
	case err := <-done:
		var conflict *ConflictError
		if !errors.As(err, &conflict) || !slices.Equal(conflict.Paths, []string{"clusters/c2/namespaces/app-x.yaml"}) {
			t.Errorf("Write: %v, want a conflict over app-x.yaml", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Write opened the pipe and waits for a writer")
	}
}
