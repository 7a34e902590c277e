package model

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePath reads a topology path as Path.String writes it: dotted keys,
// [N] list indexes, ["quoted"] keys that are not plain names. Explain reads
// the meshc.dev/source annotations emit writes with it.
func ParsePath(s string) (Path, error) {
	var p Path
	for i := 0; i < len(s); {
		switch {
		case s[i] == '.':
			i++
		case strings.HasPrefix(s[i:], `["`):
			q, err := strconv.QuotedPrefix(s[i+1:])
			if err != nil || !strings.HasPrefix(s[i+1+len(q):], "]") {
				return nil, fmt.Errorf("bad quoted key in %q", s)
			}
			key, _ := strconv.Unquote(q)
			p = append(p, key)
			i += len(q) + 2
		case s[i] == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", s)
			}
			n, err := strconv.Atoi(s[i+1 : i+end])
			if err != nil {
				return nil, fmt.Errorf("bad index in %q", s)
			}
			p = append(p, n)
			i += end + 1
		default:
			end := strings.IndexAny(s[i:], ".[")
			if end < 0 {
				end = len(s) - i
			}
			p = append(p, s[i:i+end])
			i += end
		}
	}
	return p, nil
}
