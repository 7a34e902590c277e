package render

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"meshc.dev/meshc/compiler/emit"
)

// sharedFields holds the YAML text of object fields whose value several
// objects share: the same map or list, as the rendered target's charts give
// every release of one shape (a CRD's schema is hundreds of kilobytes, in
// every cluster of a fleet). Each is written once and its text reused.
// Values are told apart by identity, so a shared value must not change
// while a tree renders; metadata, which render itself labels, never
// counts as shared.
type sharedFields struct {
	shared map[fieldKey]bool
	texts  sync.Map // fieldKey → []byte
	files  sync.Map // fileKey's key → the file's bytes
}

// fieldKey identifies a map or list value and the indent it is written at.
type fieldKey struct {
	ptr    unsafe.Pointer
	len    int
	indent int
}

// identity returns a map's or a non-empty list's identity; ok is false for
// any other value.
func identity(v any) (ptr unsafe.Pointer, n int, ok bool) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) > 0 {
			return reflect.ValueOf(v).UnsafePointer(), 0, true
		}
	case []any:
		if len(v) > 0 {
			return unsafe.Pointer(unsafe.SliceData(v)), len(v), true
		}
	}
	return nil, 0, false
}

// findShared finds the top-level field values (other than metadata) that
// more than one object of out holds.
func findShared(out *emit.Output) *sharedFields {
	seen := map[fieldKey]int{}
	for _, c := range out.Clusters {
		for _, r := range c.Resources {
			for k, v := range r.Object {
				if k == "metadata" {
					continue
				}
				if p, n, ok := identity(v); ok {
					seen[fieldKey{ptr: p, len: n}]++
				}
			}
		}
	}
	f := &sharedFields{shared: map[fieldKey]bool{}}
	for k, n := range seen {
		if n > 1 {
			f.shared[k] = true
		}
	}
	return f
}

// isShared tells whether several objects hold the value v.
func (f *sharedFields) isShared(v any) bool {
	p, n, ok := identity(v)
	return ok && f.shared[fieldKey{ptr: p, len: n}]
}

// anyShared tells whether a field of obj other than its metadata is
// shared.
func (f *sharedFields) anyShared(obj map[string]any) bool {
	if f == nil || len(f.shared) == 0 {
		return false
	}
	for k, child := range obj {
		if k != "metadata" && f.isShared(child) {
			return true
		}
	}
	return false
}

func (f *sharedFields) key(v any, indent int) (fieldKey, bool) {
	if f == nil || len(f.shared) == 0 {
		return fieldKey{}, false
	}
	p, n, ok := identity(v)
	if !ok || !f.shared[fieldKey{ptr: p, len: n}] {
		return fieldKey{}, false
	}
	return fieldKey{ptr: p, len: n, indent: indent}, true
}

// text returns the text of v written at indent, if it is shared and was
// written before.
func (f *sharedFields) text(v any, indent int) ([]byte, bool) {
	k, ok := f.key(v, indent)
	if !ok {
		return nil, false
	}
	t, ok := f.texts.Load(k)
	if !ok {
		return nil, false
	}
	return t.([]byte), true
}

// keep records the text of v written at indent, if it is shared.
func (f *sharedFields) keep(v any, indent int, text []byte) {
	if k, ok := f.key(v, indent); ok {
		f.texts.LoadOrStore(k, slices.Clone(text))
	}
}

// size is the length of the shared text known for v's fields.
func (f *sharedFields) size(v any) int {
	obj, ok := v.(map[string]any)
	if f == nil || !ok {
		return 0
	}
	n := 0
	for _, x := range obj {
		for _, indent := range []int{0, 2} { // lists sit at their key's indent
			if t, ok := f.text(x, indent); ok {
				n += len(t)
			}
		}
	}
	return n
}

// fileKey identifies the file an object with a shared field renders to:
// the text of each of its other fields, and the identity of each shared
// one (which the shared fields' rule keeps unchanged while a tree
// renders), hashed: the other fields' text is written twice for the first
// object of a key only, and kept by no one. Two objects with the same key
// render to the same bytes. ok is false for an object without a shared
// field.
func (f *sharedFields) fileKey(v any) (key [sha256.Size]byte, ok bool, err error) {
	obj, isMap := v.(map[string]any)
	if f == nil || len(f.shared) == 0 || !isMap {
		return key, false, nil
	}
	if ok = f.anyShared(obj); !ok {
		return key, false, nil // most objects: the text is not written twice
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b, text bytes.Buffer
	for _, k := range keys {
		child := obj[k]
		// Every part is length-prefixed: no two keys read alike.
		b.WriteString(strconv.Itoa(len(k)))
		b.WriteByte(':')
		b.WriteString(k)
		if k != "metadata" && f.isShared(child) {
			p, n, _ := identity(child)
			fmt.Fprintf(&b, "=%x,%d;", uintptr(p), n)
			continue
		}
		text.Reset()
		if err := writeValue(&text, child, 2, true, nil); err != nil {
			return key, false, fmt.Errorf("%s.%w", k, err)
		}
		b.WriteString(strconv.Itoa(text.Len()))
		b.WriteByte(':')
		b.Write(text.Bytes())
	}
	return sha256.Sum256(b.Bytes()), ok, nil
}
