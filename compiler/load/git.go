package load

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// GitRevision reads the topology file at path as it is at revision rev of
// the Git work tree it is in, and the name its diagnostics give it
// (rev:path, relative to the work tree's top).
func GitRevision(path, rev string) ([]byte, string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	dir := filepath.Dir(abs)
	top, err := exec.Command("git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return nil, "", fmt.Errorf("--base needs the topology in a Git work tree: %v", gitErr(err))
	}
	root, err := filepath.EvalSymlinks(strings.TrimSpace(string(top)))
	if err != nil {
		return nil, "", err
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, "", err
	}
	rel = filepath.ToSlash(rel)
	data, err := exec.Command("git", "-C", root, "show", rev+":"+rel).Output()
	if err != nil {
		return nil, "", fmt.Errorf("reading %s at %s: %v", rel, rev, gitErr(err))
	}
	return data, rev + ":" + rel, nil
}

func gitErr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return err.Error()
}
