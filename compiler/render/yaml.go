package render

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// MarshalYAML writes a JSON-shaped value (map[string]any, []any, string,
// bool, float64, int, int64, nil) as block YAML with sorted keys.
//
// meshc renders tens of thousands of objects at fleet scale, and the usual
// route (encoding/json, then a YAML parse and re-emit through
// sigs.k8s.io/yaml) dominated compile time. The subset of YAML needed here is
// small: strings are written plain only when no YAML reader could take them
// for anything else, and double-quoted otherwise, with YAML's escapes. TestMarshalYAMLRoundTrip and FuzzMarshalYAML hold it to
// sigs.k8s.io/yaml's reading.
func MarshalYAML(v any) ([]byte, error) {
	return marshalYAML(v, nil)
}

// marshalYAML is MarshalYAML, taking the text of the top-level fields
// known to fields from it, and putting it there.
//
// An object whose every field but the shared ones writes the same text as
// an earlier object's, and whose shared fields are the same values, is
// that object's file again: it gets the same bytes, not a copy (a CRD is a
// megabyte, the same in every cluster of a fleet).
func marshalYAML(v any, fields *sharedFields) ([]byte, error) {
	key, ok, err := fields.fileKey(v)
	if err != nil || !ok {
		return marshalFresh(v, fields)
	}
	if data, ok := fields.files.Load(key); ok {
		return data.([]byte), nil
	}
	data, err := marshalFresh(v, fields)
	if err != nil {
		return nil, err
	}
	kept, _ := fields.files.LoadOrStore(key, data)
	return kept.([]byte), nil
}

// marshalFresh is marshalYAML without looking for an earlier object's file.
func marshalFresh(v any, fields *sharedFields) ([]byte, error) {
	// Written into a buffer used again and again, then copied out at its
	// size: a file grown in a buffer of its own leaves the garbage of each
	// doubling behind, and keeps up to twice its size in the tree.
	b := buffers.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= maxPooled {
			b.Reset()
			buffers.Put(b)
		}
	}()
	if n := fields.size(v); n > 0 {
		b.Grow(n + 4096) // a shared CRD schema is copied once, not grown into
	}
	if err := writeValue(b, v, 0, false, fields); err != nil {
		return nil, err
	}
	return bytes.Clone(b.Bytes()), nil
}

// buffers are marshalFresh's buffers; one grown past maxPooled (a CRD) is
// left to the garbage collector rather than kept.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooled = 1 << 20

// writeValue writes v at the given indent. inline is true when v follows a
// "key:" or "- " on the same line.
//
// fields, when not nil, holds the text of values shared by several
// objects, for v's own fields (not below).
func writeValue(b *bytes.Buffer, v any, indent int, inline bool, fields *sharedFields) error {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return writeScalar(b, "{}", inline)
		}
		if inline {
			b.WriteByte('\n')
		}
		return writeFields(b, v, nil, indent, fields)
	case *overlaid:
		if inline {
			b.WriteByte('\n')
		}
		return writeFields(b, v.m, v.over, indent, fields)
	case []any:
		if len(v) == 0 {
			return writeScalar(b, "[]", inline)
		}
		if inline {
			b.WriteByte('\n')
		}
		for i, item := range v {
			writeIndent(b, indent)
			b.WriteString("-")
			if m, ok := item.(map[string]any); ok && len(m) > 0 {
				// The first key shares the dash's line.
				// Written in place, then its first indent cut out (the
				// map's text after it moved back): no buffer per item.
				b.WriteByte(' ')
				start := b.Len()
				if err := writeValue(b, m, indent+2, false, nil); err != nil {
					return fmt.Errorf("[%d]%w", i, err)
				}
				text := b.Bytes()
				n := copy(text[start:], text[start+indent+2:])
				b.Truncate(start + n)
				continue
			}
			if err := writeValue(b, item, indent+2, true, nil); err != nil {
				return fmt.Errorf("[%d]%w", i, err)
			}
		}
	case string:
		if inline && indent > 0 && literalSafe(v) {
			// Multi-line text (a kubeconfig template, a script) reads
			// best as a literal block.
			if strings.HasSuffix(v, "\n") {
				b.WriteString(" |\n")
			} else {
				b.WriteString(" |-\n")
			}
			for _, line := range strings.Split(strings.TrimSuffix(v, "\n"), "\n") {
				if line != "" {
					writeIndent(b, indent)
					b.WriteString(line)
				}
				b.WriteByte('\n')
			}
			return nil
		}
		if inline {
			b.WriteByte(' ')
		}
		writeString(b, v)
		b.WriteByte('\n')
		return nil
	case bool:
		return writeScalar(b, strconv.FormatBool(v), inline)
	case nil:
		return writeScalar(b, "null", inline)
	case int:
		return writeScalar(b, strconv.Itoa(v), inline)
	case int64:
		return writeScalar(b, strconv.FormatInt(v, 10), inline)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf(": %v is not a JSON number", v)
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return writeScalar(b, strconv.FormatInt(int64(v), 10), inline)
		}
		return writeScalar(b, strconv.FormatFloat(v, 'g', -1, 64), inline)
	default:
		return fmt.Errorf(": unsupported type %T", v)
	}
	return nil
}

// overlaid is a map written with fields set over its own (added, or
// replacing its own of the same key), without copying it: meshc's labels,
// set on every object it writes. over is sorted by key, and not empty.
type overlaid struct {
	m    map[string]any
	over []field
}

// field is a key and its value.
type field struct {
	key   string
	value any
}

// writeFields writes the fields of m and over (see overlaid), keys
// sorted, at indent.
func writeFields(b *bytes.Buffer, m map[string]any, over []field, indent int, fields *sharedFields) error {
	var small [16]string // most objects' maps: sorted without a slice of their own
	keys := small[:0]
	if n := len(m) + len(over); n > len(small) {
		keys = make([]string, 0, n)
	}
	for k := range m {
		if len(over) == 0 || overIndex(over, k) < 0 {
			keys = append(keys, k)
		}
	}
	for _, f := range over {
		keys = append(keys, f.key)
	}
	slices.Sort(keys)
	for _, k := range keys {
		writeIndent(b, indent)
		start := b.Len()
		writeString(b, k)
		if b.Len()-start > 1000 {
			// YAML caps implicit keys at 1024 characters; longer
			// ones need the explicit "? key" form.
			key := append([]byte(nil), b.Bytes()[start:]...)
			b.Truncate(start)
			b.WriteString("? ")
			b.Write(key)
			b.WriteByte('\n')
			writeIndent(b, indent)
		}
		b.WriteByte(':')
		var child any
		if i := overIndex(over, k); i >= 0 {
			child = over[i].value
		} else {
			child = m[k]
		}
		childIndent := indent + 2
		if _, isList := child.([]any); isList {
			// Block sequences sit at their key's indent, as kubectl
			// and sigs.k8s.io/yaml write them.
			childIndent = indent
		}
		if text, ok := fields.text(child, childIndent); ok {
			b.Write(text)
			continue
		}
		start = b.Len()
		if err := writeValue(b, child, childIndent, true, nil); err != nil {
			return fmt.Errorf("%s.%w", k, err)
		}
		fields.keep(child, childIndent, b.Bytes()[start:])
	}
	return nil
}

// overIndex is the index of key in over, or -1.
func overIndex(over []field, key string) int {
	for i, f := range over {
		if f.key == key {
			return i
		}
	}
	return -1
}

func writeScalar(b *bytes.Buffer, s string, inline bool) error {
	if inline {
		b.WriteByte(' ')
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return nil
}

func writeIndent(b *bytes.Buffer, n int) {
	for n > len(spaces) {
		b.WriteString(spaces)
		n -= len(spaces)
	}
	b.WriteString(spaces[:n])
}

const spaces = "                                                                "

// writeString writes s plain when that is unambiguous, else double-quoted.
func writeString(b *bytes.Buffer, s string) {
	if plainSafe(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case printable(r):
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(b, `\u%04X`, r)
		default:
			fmt.Fprintf(b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
}

// printable reports whether YAML allows r unescaped (its c-printable set,
// less the line breaks and BOM a reader would fold or drop).
func printable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E:
		return true
	case r == 0x85, r == 0xFEFF, r == 0x2028, r == 0x2029:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// plainSafe reports whether s reads back as the same string when written
// without quotes: it starts with a letter or '_', holds only letters,
// digits and "_./=-", and is none of the words YAML 1.1 reads as booleans
// or null.
func plainSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '/' || c == '=' || c == '-'):
		default:
			return false
		}
	}
	// s is ASCII here, so EqualFold is ToLower without its copy.
	if len(s) > len("false") {
		return true
	}
	switch s[0] | 0x20 { // the words' first letters, in either case
	case 'y', 'n', 'o', 't', 'f':
	default:
		return true
	}
	for _, word := range yaml11Words {
		if strings.EqualFold(s, word) {
			return false
		}
	}
	return true
}

// yaml11Words are the words YAML 1.1 reads as booleans or null, in any case.
var yaml11Words = [...]string{"y", "n", "yes", "no", "on", "off", "true", "false", "null"}

// literalSafe reports whether s can be written as a literal block scalar
// and read back unchanged: several lines, printable, not starting with a
// space (which would need an indentation indicator), ending in at most one
// line break (more would need the keep indicator).
func literalSafe(s string) bool {
	if !strings.Contains(s, "\n") || strings.HasSuffix(s, "\n\n") || s == "\n" {
		return false
	}
	// A reader takes the block's indentation from its first non-empty
	// line, so that line must not start with white space.
	for _, line := range strings.Split(s, "\n") {
		if line != "" {
			if line[0] == ' ' || line[0] == '\t' {
				return false
			}
			break
		}
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !printable(r) {
			return false
		}
	}
	return true
}
