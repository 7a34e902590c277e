package crdschema

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// crdHeader is what Load needs to know about a CRD to answer Has and to route
// an object to the right file: everything except the schemas, which are more
// than 99% of the bytes.
type crdHeader struct {
	apiVersion string // of the CRD document itself
	kind       string // of the CRD document itself
	group      string // spec.group
	crdKind    string // spec.names.kind
	scope      string // spec.scope
	versions   []versionHeader
}

type versionHeader struct {
	name            string
	served, storage bool
}

// version returns the entry for name, or nil.
func (h *crdHeader) version(name string) *versionHeader {
	for i := range h.versions {
		if h.versions[i].name == name {
			return &h.versions[i]
		}
	}
	return nil
}

// servedVersions lists the served version names, in file order, for messages.
func (h *crdHeader) servedVersions() []string {
	var out []string
	for _, v := range h.versions {
		if v.served {
			out = append(out, v.name)
		}
	}
	return out
}

func (h *crdHeader) equal(o *crdHeader) bool {
	return h.apiVersion == o.apiVersion && h.kind == o.kind && h.group == o.group &&
		h.crdKind == o.crdKind && h.scope == o.scope && slices.Equal(h.versions, o.versions)
}

// headerOf extracts the header from a fully parsed CRD.
func headerOf(crd *apiextensionsv1.CustomResourceDefinition) crdHeader {
	h := crdHeader{
		apiVersion: crd.APIVersion,
		kind:       crd.Kind,
		group:      crd.Spec.Group,
		crdKind:    crd.Spec.Names.Kind,
		scope:      string(crd.Spec.Scope),
	}
	for _, v := range crd.Spec.Versions {
		h.versions = append(h.versions, versionHeader{name: v.Name, served: v.Served, storage: v.Storage})
	}
	return h
}

var (
	// errUnsure means the quick scan met YAML it does not handle; the caller
	// falls back to a full parse, which is slow but always right.
	errUnsure = errors.New("unsupported YAML shape for quick scan")
	// errMultiDoc is fatal: a full parse would silently read only the first
	// document, hiding the others.
	errMultiDoc = errors.New("file holds more than one YAML document; put one CustomResourceDefinition per file")
)

// scanHeader reads a CRD's header with a line scanner instead of a YAML
// parser. Parsing the Sail Istio CRD alone takes ~35 ms and the compiler
// loads every CRD on every run, while scanning all twenty takes ~2 ms.
//
// It understands block-style YAML as written by controller-gen and Helm:
// top-level keys at column 0, spec's keys one level in, spec.versions a
// block sequence (indented or not). It only reads keys at the exact indent of
// spec's, spec.names' and each version item's children; everything deeper
// (schemas, descriptions, block scalars, folded continuation lines) is
// skipped, which is sound because YAML requires such content to be indented
// more than its key. Anything unexpected at the levels it reads returns
// errUnsure rather than a guess, and the full parse of the file later checks
// that the scan agreed (see crdEntry.parse).
func scanHeader(data []byte) (crdHeader, error) {
	var (
		h         crdHeader
		started   bool   // a key of the first document has been seen
		ended     bool   // a document marker followed the first document
		top       string // current top-level key
		specCol   = -1   // indent of spec's keys
		section   string // current key under spec
		namesCol  = -1   // indent of spec.names' keys
		itemCol   = -1   // indent of the '-' of spec.versions items
		keyCol    = -1   // indent of the current version item's keys
		cur       *versionHeader
		sawServed bool
	)
	finishVersion := func() error {
		if cur == nil {
			return nil
		}
		if cur.name == "" || !sawServed {
			return errUnsure
		}
		h.versions = append(h.versions, *cur)
		cur, sawServed = nil, false
		return nil
	}
	versionKey := func(content string) error {
		key, val, ok := splitKey(content)
		if !ok {
			return errUnsure
		}
		var err error
		switch key {
		case "name":
			cur.name, err = scalar(val)
		case "served":
			cur.served, err = boolean(val)
			sawServed = true
		case "storage":
			cur.storage, err = boolean(val)
		}
		return err
	}

	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		if indent == len(line) {
			continue // blank
		}
		if line[indent] == '\t' {
			return h, errUnsure
		}
		if line[indent] == '#' {
			continue
		}
		// Most lines are schema lines, deeper than anything read here: skip
		// them before paying for a string conversion.
		if !ended && indent > 0 && (top != "spec" || deeperThanRead(indent, specCol, section, namesCol, keyCol)) {
			continue
		}
		content := string(line[indent:])

		if indent == 0 {
			if content == "---" || strings.HasPrefix(content, "--- ") || content == "..." {
				if started {
					ended = true
				}
				continue
			}
			if ended {
				return h, errMultiDoc
			}
			key, val, ok := splitKey(content)
			if !ok {
				return h, errUnsure
			}
			started = true
			top = key
			if err := finishVersion(); err != nil {
				return h, err
			}
			var err error
			switch key {
			case "apiVersion":
				h.apiVersion, err = scalar(val)
			case "kind":
				h.kind, err = scalar(val)
			case "spec":
				if val != "" {
					return h, errUnsure // flow-style spec
				}
			}
			if err != nil {
				return h, err
			}
			continue
		}
		if ended {
			return h, errMultiDoc
		}
		if top != "spec" {
			continue
		}

		if specCol < 0 {
			specCol = indent
		}
		if indent < specCol {
			return h, errUnsure
		}
		if indent == specCol && content[0] != '-' {
			key, val, ok := splitKey(content)
			if !ok {
				return h, errUnsure
			}
			if err := finishVersion(); err != nil {
				return h, err
			}
			section = key
			var err error
			switch key {
			case "group":
				h.group, err = scalar(val)
			case "scope":
				h.scope, err = scalar(val)
			case "names", "versions":
				if val != "" {
					return h, errUnsure // flow style
				}
			}
			if err != nil {
				return h, err
			}
			continue
		}

		switch section {
		case "names":
			if namesCol < 0 {
				namesCol = indent
			}
			if indent == namesCol && content[0] == '-' {
				continue // item of an indentless sequence, e.g. categories
			}
			if indent == namesCol {
				key, val, ok := splitKey(content)
				if !ok {
					return h, errUnsure
				}
				if key == "kind" {
					k, err := scalar(val)
					if err != nil {
						return h, err
					}
					h.crdKind = k
				}
			} else if indent < namesCol {
				return h, errUnsure
			}
		case "versions":
			if itemCol < 0 {
				itemCol = indent
			}
			switch {
			case indent == itemCol:
				if content != "-" && !strings.HasPrefix(content, "- ") {
					return h, errUnsure
				}
				if err := finishVersion(); err != nil {
					return h, err
				}
				cur = &versionHeader{}
				rest := strings.TrimLeft(content[1:], " ")
				if rest == "" {
					keyCol = -1 // the item's first key is on the next line
					continue
				}
				keyCol = indent + len(content) - len(rest)
				if rest[0] == '-' {
					return h, errUnsure // nested sequence
				}
				if err := versionKey(rest); err != nil {
					return h, err
				}
			case indent < itemCol || cur == nil:
				return h, errUnsure
			default:
				if keyCol < 0 {
					keyCol = indent
				}
				if indent == keyCol && content[0] == '-' {
					continue // item of an indentless sequence, e.g. additionalPrinterColumns
				}
				if indent == keyCol {
					if err := versionKey(content); err != nil {
						return h, err
					}
				} else if indent < keyCol {
					return h, errUnsure
				}
			}
		}
	}
	if err := finishVersion(); err != nil {
		return h, err
	}
	if h.apiVersion == "" || h.kind == "" || h.group == "" || h.crdKind == "" || h.scope == "" || len(h.versions) == 0 {
		return h, errUnsure
	}
	return h, nil
}

// deeperThanRead reports whether a line indented by indent under spec is
// below every level scanHeader reads, given the columns learned so far.
func deeperThanRead(indent, specCol int, section string, namesCol, keyCol int) bool {
	if specCol < 0 || indent <= specCol {
		return false
	}
	switch section {
	case "names":
		return namesCol >= 0 && indent > namesCol
	case "versions":
		return keyCol >= 0 && indent > keyCol
	}
	return true
}

// splitKey splits a block mapping line "key: value" or "key:". It accepts
// only plain keys; a quoted or complex key at a level the scanner reads makes
// it give up.
func splitKey(s string) (key, val string, ok bool) {
	i := strings.Index(s, ": ")
	if i < 0 {
		if !strings.HasSuffix(s, ":") {
			return "", "", false
		}
		i = len(s) - 1
	}
	key = s[:i]
	if key == "" || strings.ContainsAny(key, " \t\"'{}[],&*!|>%@`#?") {
		return "", "", false
	}
	return key, strings.TrimSpace(s[i+1:]), true
}

// scalar decodes a single-line scalar value: plain (with an optional
// trailing comment) or quoted. Block scalars and other shapes are errUnsure.
func scalar(v string) (string, error) {
	switch {
	case v == "":
		return "", errUnsure
	case v[0] == '"':
		end := strings.LastIndexByte(v, '"')
		if end == 0 {
			return "", errUnsure
		}
		if rest := strings.TrimSpace(v[end+1:]); rest != "" && rest[0] != '#' {
			return "", errUnsure
		}
		s, err := strconv.Unquote(v[:end+1])
		if err != nil {
			return "", errUnsure
		}
		return s, nil
	case v[0] == '\'':
		end := strings.LastIndexByte(v, '\'')
		if end == 0 {
			return "", errUnsure
		}
		if rest := strings.TrimSpace(v[end+1:]); rest != "" && rest[0] != '#' {
			return "", errUnsure
		}
		return strings.ReplaceAll(v[1:end], "''", "'"), nil
	case strings.ContainsRune("|>&*!{[@`%", rune(v[0])):
		return "", errUnsure
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

// boolean accepts only the spellings true and false; YAML 1.1 spellings
// such as "yes" send the file to the full parser.
func boolean(v string) (bool, error) {
	if v == "" || v[0] == '"' || v[0] == '\'' {
		return false, errUnsure // a quoted "true" is a string, not a bool
	}
	s, err := scalar(v)
	if err != nil {
		return false, err
	}
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errUnsure
}
