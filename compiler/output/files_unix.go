//go:build unix

package output

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"meshc.dev/meshc/compiler/render"
)

// writeFiles makes folders (slash paths, parents first) below root, then
// puts every file of tree there: hard-linked from the same path below from
// when same says the file there is byte for byte, else written. Each file
// is created relative to its folder's descriptor (openat, linkat): a fleet's
// tens of thousands of files then cost no lookup of their path from the
// top, and none of the poller registration and flag calls os.OpenFile
// makes for a file it will write once. Two folders are filled at a time:
// on the 2-core machines this is measured on, more writers only contend in
// the filesystem's inode allocator.
func writeFiles(root string, folders []string, tree render.Tree, from string, same map[string]bool) error {
	top, err := openFolder(unix.AT_FDCWD, root)
	if err != nil {
		return err
	}
	defer unix.Close(top)
	for _, d := range folders {
		if err := unix.Mkdirat(top, d, 0o755); err != nil {
			return &fs.PathError{Op: "mkdir", Path: filepath.Join(root, filepath.FromSlash(d)), Err: err}
		}
	}
	var g errgroup.Group
	g.SetLimit(2)
	for folder, names := range byFolder(tree.Paths()) {
		g.Go(func() error {
			return fillFolder(top, root, folder, names, tree, from, same)
		})
	}
	return g.Wait()
}

// fillFolder puts the files names of folder (a slash path below root, whose
// descriptor is top) in place.
func fillFolder(top int, root, folder string, names []string, tree render.Tree, from string, same map[string]bool) error {
	fd, err := openFolder(top, folder)
	if err != nil {
		return &fs.PathError{Op: "open", Path: filepath.Join(root, filepath.FromSlash(folder)), Err: err}
	}
	defer unix.Close(fd)
	old := -1 // the same folder of the old tree, opened when a file is linked from it
	opened := false
	defer func() {
		if old >= 0 {
			unix.Close(old)
		}
	}()
	for _, name := range names {
		p := path.Join(folder, name)
		if same[p] {
			if !opened {
				opened = true
				if old, err = openFolder(unix.AT_FDCWD, filepath.Join(from, filepath.FromSlash(folder))); err != nil {
					old = -1
				}
			}
			// Written afresh if linking fails: another filesystem, too
			// many links.
			if old >= 0 && unix.Linkat(old, name, fd, name, 0) == nil {
				continue
			}
		}
		if err := createFile(fd, name, tree[p]); err != nil {
			return &fs.PathError{Op: "write", Path: filepath.Join(root, filepath.FromSlash(p)), Err: err}
		}
	}
	return nil
}

// openFolder opens folder name relative to the folder descriptor at.
func openFolder(at int, name string) (int, error) {
	for {
		fd, err := unix.Openat(at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

// createFile creates file name in the folder at (it must not exist: the
// folder is a staged one) and writes data into it.
func createFile(at int, name string, data []byte) error {
	var fd int
	var err error
	for {
		if fd, err = unix.Openat(at, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return err
		}
		data = data[n:]
	}
	return unix.Close(fd)
}

// compareFiles reads each of paths (slash paths below dir), folder by
// folder and two folders at a time, and tells whether each holds exactly
// tree's bytes: an unchanged rebuild of a fleet is mostly this.
func compareFiles(dir string, paths []string, tree render.Tree) map[string]comparison {
	out := make(map[string]comparison, len(paths))
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(2)
	for folder, names := range byFolder(paths) {
		g.Go(func() error {
			results := make([]comparison, len(names))
			folderPath := filepath.Join(dir, filepath.FromSlash(folder))
			fd, err := openFolder(unix.AT_FDCWD, folderPath)
			var buf []byte
			for i, name := range names {
				if err != nil {
					results[i].err = &fs.PathError{Op: "open", Path: folderPath, Err: err}
					continue
				}
				p := path.Join(folder, name)
				results[i].equal, results[i].err = compareFile(fd, name, tree[p], &buf)
				if results[i].err != nil {
					results[i].err = &fs.PathError{Op: "read", Path: filepath.Join(dir, filepath.FromSlash(p)), Err: results[i].err}
				}
			}
			if err == nil {
				unix.Close(fd)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, name := range names {
				out[path.Join(folder, name)] = results[i]
			}
			return nil
		})
	}
	_ = g.Wait() // each comparison carries its own error
	return out
}

// compareFile tells whether file name in the folder at holds exactly want.
// It follows a symlink, as reading the file would; buf is reused between
// calls.
func compareFile(at int, name string, want []byte, buf *[]byte) (bool, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Openat(at, name, unix.O_RDONLY|unix.O_CLOEXEC, 0); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	// One byte more than want: a longer file is another file.
	need := len(want) + 1
	if cap(*buf) < need {
		*buf = make([]byte, need)
	}
	b := (*buf)[:need]
	n := 0
	for n < need {
		m, err := unix.Read(fd, b[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, err // a folder in the way: EISDIR
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n == len(want) && bytes.Equal(b[:n], want), nil
}
