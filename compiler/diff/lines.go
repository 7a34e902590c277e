package diff

import (
	"fmt"
	"strings"
)

// Line is one line of a line diff: Op is "-" (only in the old text), "+"
// (only in the new), " " (in both, shown as context) or "@" (a hunk header,
// "@@ -3,4 +3,5 @@", whose numbers are 1-based line numbers and counts).
type Line struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// contextLines is how many unchanged lines a hunk shows around a change.
const contextLines = 2

// maxLCSCells bounds the work of the longest-common-subsequence table: two
// texts whose differing middles are larger show as a whole replacement.
const maxLCSCells = 4 << 20

// lineDiff returns the hunks that turn old into new, in order, as unified
// diffs show them: a line moved is one removed here and added there.
func lineDiff(old, new string) []Line {
	a, b := splitLines(old), splitLines(new)
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		i, j int // where the line is, or goes, in a and in b (0-based)
	}
	var ops []op
	// Common prefix and suffix cost nothing.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	for k := range pre {
		ops = append(ops, op{' ', a[k], k, k})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > maxLCSCells {
		for k, l := range ma {
			ops = append(ops, op{'-', l, pre + k, pre})
		}
		for k, l := range mb {
			ops = append(ops, op{'+', l, pre + len(ma), pre + k})
		}
	} else {
		// lcs[i][j] is the length of the longest common subsequence of
		// ma[i:] and mb[j:].
		n, m := len(ma), len(mb)
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				ops = append(ops, op{' ', ma[i], pre + i, pre + j})
				i++
				j++
			case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
				ops = append(ops, op{'+', mb[j], pre + i, pre + j})
				j++
			default:
				ops = append(ops, op{'-', ma[i], pre + i, pre + j})
				i++
			}
		}
	}
	for k := range suf {
		ops = append(ops, op{' ', a[len(a)-suf+k], len(a) - suf + k, len(b) - suf + k})
	}

	// Group the changes into hunks with their context.
	var out []Line
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(0, k-contextLines)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// Unchanged lines: the hunk goes on if another change follows
			// within twice the context.
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run < len(ops) && run-end <= 2*contextLines {
				end = run
				continue
			}
			end = min(end+contextLines, len(ops))
			break
		}
		oldStart, newStart, oldN, newN := ops[start].i, ops[start].j, 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				oldN++
			}
			if o.kind != '-' {
				newN++
			}
		}
		out = append(out, Line{Op: "@", Text: fmt.Sprintf("@@ -%s +%s @@", hunkRange(oldStart, oldN), hunkRange(newStart, newN))})
		for _, o := range ops[start:end] {
			out = append(out, Line{Op: string(o.kind), Text: o.text})
		}
		k = end
	}
	return out
}

// hunkRange writes a hunk's start and length as unified diffs do: an
// empty side names the line it comes after.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits a text into lines; a final newline ends the last line
// rather than starting an empty one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
