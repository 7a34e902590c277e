//go:build !linux

package output

import "errors"

// atomicExchange tells whether exchange can succeed here.
const atomicExchange = false

// exchange is not available here; swap falls back to two renames.
func exchange(a, b string) error { return errors.New("atomic exchange not supported") }

// linkSymlink is not attempted here: link(2) may follow the symlink; the
// caller recreates it instead.
func linkSymlink(oldname, newname string) error { return errors.New("not supported") }
