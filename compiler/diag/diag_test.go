package diag_test

import (
	"bytes"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/diag"
)

func TestQuoteCutsHugeValues(t *testing.T) {
	if got := diag.Quote("short"); got != `"short"` {
		t.Errorf("Quote(short) = %s", got)
	}
	huge := strings.Repeat("é", 10<<20) // 20 MB, two bytes a rune
	got := diag.Quote(huge)
	if len(got) > 2*diag.MaxQuoted || !strings.HasSuffix(got, "(20971520 bytes in all)") {
		t.Errorf("Quote(20 MB) = %s", got)
	}
	if !strings.HasPrefix(got, `"éé`) || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("Quote cut a rune in two: %s", got)
	}
}

// A rule that quotes a value with %q rather than Quote still prints a
// readable diagnostic: the printers cut any message in its middle.
func TestPrintersCutHugeMessages(t *testing.T) {
	l := diag.List{{Code: "E003", Path: "tenants.t.labels.team", Pos: diag.Pos{File: "t.yaml", Line: 3, Column: 7},
		Message: "invalid label value \"" + strings.Repeat("x", 50<<20) + "\": must be no more than 63 bytes"}}
	var text, js bytes.Buffer
	if err := l.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String()} {
		if len(out) > 4000 {
			t.Errorf("%s: %d bytes printed", name, len(out))
		}
		if !strings.Contains(out, "must be no more than 63 bytes") || !strings.Contains(out, "bytes cut") {
			t.Errorf("%s: lost the reason or the mark of the cut: %.300s", name, out)
		}
	}
	if len(l[0].Message) < 50<<20 {
		t.Error("printing changed the diagnostic itself")
	}
}
