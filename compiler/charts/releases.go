package charts

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// A control plane is rendered with the charts of its own Istio release:
// istiod's injection template, its env and its RBAC change between
// releases, and a chart's templates may call functions an older istiod
// lacks. Charts of a release are a folder <version>/<chart>, where <chart>
// is the chart's published name (base, istiod, cni, gateway) or its folder
// in Istio's source tree (istio-cni, istio-control/istio-discovery).
//
// They come from, in order: the folder given with --charts (then nothing
// else: the user said which charts to use), the charts embedded in meshc,
// and the chart cache that `meshc charts pull` fills. A release found in
// none of them is an error naming the command that fetches it, never a
// silent fallback to other charts.
//
// meshc embeds the released charts of the Istio releases its examples and
// tests pin (released/, with SOURCES.md): so `meshc build` of every example
// works offline for every target, and the real API server suite installs
// the very charts the bundles were checked with. They add about 8 MB to a
// binary of about 100 MB; every other release is one `meshc charts pull`
// away.
//
//go:embed all:released
var released embed.FS

// releasedRoot is the embedded folder of released charts.
const releasedRoot = "released"

// EmbeddedReleases lists the Istio releases whose charts meshc embeds.
func EmbeddedReleases() []string {
	entries, _ := fs.ReadDir(released, releasedRoot)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// chartFolders are, per chart meshc renders, the folder names a release's
// charts may use: Istio's source tree, then the published chart's name
// (what `helm pull --untar` writes).
var chartFolders = map[string][]string{
	Base:    {Base},
	Istiod:  {Istiod, "istiod"},
	CNI:     {CNI, "cni"},
	Gateway: {Gateway},
	Ztunnel: {Ztunnel},
}

// Library finds and loads the charts of each Istio release. It is safe for
// concurrent use; each release loads once.
type Library struct {
	// dir is the --charts folder; empty means the embedded charts and the
	// cache.
	dir string
	// cache is the chart cache `meshc charts pull` fills.
	cache string

	mu   sync.Mutex
	sets map[string]*Set
}

// NewLibrary finds charts in dir (a folder of <version>/<chart>) when dir
// is set, else in the embedded charts and the chart cache.
func NewLibrary(dir string) *Library {
	l := &Library{dir: dir, sets: map[string]*Set{}}
	if dir == "" {
		l.cache, _ = CacheDir()
	}
	return l
}

// CacheDir is the chart cache: $MESHC_CHARTS_CACHE, else meshc/charts in
// the user's cache folder (~/.cache on Linux).
func CacheDir() (string, error) {
	if d := os.Getenv("MESHC_CHARTS_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "meshc", "charts"), nil
}

// MissingError says that no charts of an Istio release were found.
type MissingError struct {
	Version string
	// Where lists the places looked in.
	Where []string
	// Dir is the --charts folder, when one was given.
	Dir string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("no charts of Istio %s in %s", e.Version, strings.Join(e.Where, " or "))
}

// Fix says how to get the charts.
func (e *MissingError) Fix(versions ...string) string {
	if e.Dir != "" {
		return fmt.Sprintf("put the released charts of Istio %s in %s (`meshc charts pull --dest %s %s` fetches them)",
			strings.Join(versions, ", "), filepath.Join(e.Dir, "<version>"), e.Dir, strings.Join(versions, " "))
	}
	return "run `meshc charts pull " + strings.Join(versions, " ") + "` (it fetches them into the chart cache), or pass --charts a folder of <version>/<chart>"
}

// Release returns the charts of Istio release version, or a *MissingError.
func (l *Library) Release(version string) (*Set, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.sets[version]; ok {
		return s, nil
	}
	fsys, source, err := l.find(version)
	if err != nil {
		return nil, err
	}
	var s *Set
	if fsys == nil {
		s, err = embeddedRelease(version)
	} else {
		s, err = Load(aliasFS{fsys}, source)
	}
	if err != nil {
		return nil, err
	}
	l.sets[version] = s
	return s, nil
}

// The embedded releases load once per process and share their render
// cache across compilations (a test run, a fleet's diff against its base).
var (
	embeddedMu   sync.Mutex
	embeddedSets = map[string]*Set{}
)

func embeddedRelease(version string) (*Set, error) {
	embeddedMu.Lock()
	defer embeddedMu.Unlock()
	if s, ok := embeddedSets[version]; ok {
		return s, nil
	}
	sub, err := fs.Sub(released, path.Join(releasedRoot, version))
	if err != nil {
		return nil, err
	}
	s, err := Load(aliasFS{sub}, "Istio "+version+" (embedded)")
	if err != nil {
		return nil, err
	}
	embeddedSets[version] = s
	return s, nil
}

// Has reports whether the charts of version can be found.
func (l *Library) Has(version string) bool {
	_, _, err := l.find(version)
	return err == nil
}

// find says where the charts of version are: a folder, or, with a nil
// fs.FS, the embedded charts.
func (l *Library) find(version string) (fs.FS, string, error) {
	if l.dir != "" {
		d := filepath.Join(l.dir, version)
		if isRelease(os.DirFS(d)) {
			return os.DirFS(d), d, nil
		}
		return nil, "", &MissingError{Version: version, Where: []string{d}, Dir: l.dir}
	}
	if sub, err := fs.Sub(released, path.Join(releasedRoot, version)); err == nil && isRelease(sub) {
		return nil, "Istio " + version + " (embedded)", nil // see embeddedRelease
	}
	where := []string{"the charts embedded in meshc (" + strings.Join(EmbeddedReleases(), ", ") + ")"}
	if l.cache != "" {
		d := filepath.Join(l.cache, version)
		if isRelease(os.DirFS(d)) {
			return os.DirFS(d), d, nil
		}
		where = append(where, "the chart cache "+l.cache)
	}
	return nil, "", &MissingError{Version: version, Where: where}
}

// isRelease reports whether fsys holds a release's charts: a base chart
// and an istiod chart under one of their folder names.
func isRelease(fsys fs.FS) bool {
	for _, name := range []string{Base, Istiod} {
		if !slices.ContainsFunc(chartFolders[name], func(dir string) bool {
			_, err := fs.Stat(fsys, path.Join(dir, "Chart.yaml"))
			return err == nil
		}) {
			return false
		}
	}
	return true
}

// aliasFS presents a release folder to Load as Istio's source tree lays its
// charts out: a published chart's folder (istiod, cni) answers for the
// source tree's (istio-control/istio-discovery, istio-cni) when that one is
// absent.
type aliasFS struct{ fs.FS }

func (a aliasFS) Open(name string) (fs.File, error) {
	f, err := a.FS.Open(name)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	for chart, dirs := range chartFolders {
		rest, ok := strings.CutPrefix(name, chart)
		if !ok || (rest != "" && rest[0] != '/') {
			continue
		}
		for _, d := range dirs[1:] {
			if f, err := a.FS.Open(d + rest); err == nil {
				return f, nil
			}
		}
	}
	return nil, err
}
