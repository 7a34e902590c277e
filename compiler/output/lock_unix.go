//go:build unix

package output

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockFolder takes an exclusive flock(2) on folder, waiting up to wait for
// another holder to let go; ok is false when it did not in time. The lock
// goes with the process: a killed build never leaves it held.
func lockFolder(folder string, wait time.Duration) (unlock func(), ok bool, err error) {
	f, err := os.Open(folder)
	if err != nil {
		return nil, false, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, true, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, false, err
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, false, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameDevice tells whether two paths are on one filesystem: a rename
// between them can succeed.
func sameDevice(a, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		return true // unknown: let the rename say
	}
	return sa.Dev == sb.Dev
}

// writable tells whether this process may create and remove entries in
// folder, and whether it is meant to: root may write anywhere, but a
// folder no one may write (mode a-w) is read-only to meshc whoever runs it.
func writable(folder string) bool {
	if unix.Access(folder, unix.W_OK|unix.X_OK) != nil {
		return false
	}
	var st unix.Stat_t
	return unix.Stat(folder, &st) != nil || st.Mode&0o222 != 0
}

// folderID names the folder at p on its filesystem, by device and inode: a
// folder keeps it when renamed, or exchanged.
func folderID(p string) (string, bool) {
	var st unix.Stat_t
	if unix.Lstat(p, &st) != nil {
		return "", false
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), true
}
