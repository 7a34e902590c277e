package output

import (
	"os"

	"golang.org/x/sys/unix"
)

// atomicExchange tells whether exchange can succeed here (it may still
// fail on a filesystem without it).
const atomicExchange = true

// exchange atomically swaps two paths (renameat2 RENAME_EXCHANGE).
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// linkSymlink hard-links a symlink itself, keeping its identity: link(2)
// does not follow symlinks on Linux.
func linkSymlink(oldname, newname string) error { return os.Link(oldname, newname) }
