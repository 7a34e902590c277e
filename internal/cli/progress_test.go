package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the progress goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgress(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, 10*time.Millisecond, 5*time.Millisecond)
	p.stage("compiling 1000 clusters")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "meshc: compiling 1000 clusters… ") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.stage("writing 39800 files to out")
	for !strings.Contains(out.String(), "meshc: writing 39800 files to out… ") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.stop()
	p.stop() // stopping twice is harmless
	got := out.String()
	if !strings.Contains(got, "\r\x1b[Kmeshc: compiling 1000 clusters… ") || !strings.Contains(got, "meshc: writing 39800 files to out… ") {
		t.Fatalf("progress did not show the stages: %q", got)
	}
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("the progress line is not erased at the end: %q", got)
	}
	time.Sleep(20 * time.Millisecond)
	if out.String() != got {
		t.Errorf("progress drew after stop: %q", out.String()[len(got):])
	}

	// A build shorter than the delay shows nothing.
	var quick lockedBuffer
	q := newProgress(&quick, time.Hour, time.Millisecond)
	q.stage("checking t.yaml")
	q.stop()
	if quick.String() != "" {
		t.Errorf("a quick build drew progress: %q", quick.String())
	}
	// Off a terminal, nothing either.
	var pipe lockedBuffer
	startProgress(&pipe, true).stop()
	if pipe.String() != "" {
		t.Errorf("progress off a terminal: %q", pipe.String())
	}
}
