package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressDelay is how long a build runs before progress shows: a build
// that takes less prints only its summary.
const progressDelay = 500 * time.Millisecond

// progress shows, on one terminal line that it rewrites, which stage a
// long build is in and for how long, and erases the line when done. On
// anything but a terminal it prints nothing, so logs and pipes keep only
// the summary.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	name    string
	started time.Time
	shown   bool // a line is on screen
	done    chan struct{}
	stopped bool
}

// startProgress starts showing progress on w if on is true and w is a
// terminal.
func startProgress(w io.Writer, on bool) *progress {
	if !on || !isTerminal(w) {
		return &progress{stopped: true}
	}
	return newProgress(w, progressDelay, 200*time.Millisecond)
}

func newProgress(w io.Writer, delay, every time.Duration) *progress {
	p := &progress{w: w, started: time.Now(), done: make(chan struct{})}
	go func() {
		select {
		case <-time.After(delay):
		case <-p.done:
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			p.draw()
			select {
			case <-tick.C:
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// stage names the stage the build is in now.
func (p *progress) stage(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.name = name
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[Kmeshc: %s… %.1fs", p.name, time.Since(p.started).Seconds())
	p.shown = true
}

// stop erases the progress line; it may be called more than once.
func (p *progress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.done)
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
