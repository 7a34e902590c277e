//go:build !unix

package output

import "time"

// lockFolder does not lock here: meshc's builds are serialised on Unix
// systems only, where flock(2) exists.
func lockFolder(folder string, wait time.Duration) (unlock func(), ok bool, err error) {
	return func() {}, true, nil
}

// sameDevice cannot tell here; the renames will.
func sameDevice(a, b string) bool { return true }

// writable cannot tell here; the writes will.
func writable(folder string) bool { return true }

// folderID cannot tell here: a folder is not exchanged alone (see
// subtreeReason).
func folderID(p string) (string, bool) { return "", false }
