package release

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestParse(t *testing.T) {
	for _, bad := range []string{"", "1.28", "1.28.x", "1.28.2.1", "1.-1.0", "vv1.28.2", "1.028.2"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	for _, s := range []string{"1.28.2", "v1.28.2"} {
		v, err := Parse(s)
		if err != nil || v.String() != "1.28.2" || v.SailVersion() != "v1.28.2" || v.RevisionSuffix() != "v1-28-2" {
			t.Errorf("Parse(%s) = %v, %v", s, v, err)
		}
	}
}

func TestResolve(t *testing.T) {
	r, err := Resolve("v1.28.2")
	if err != nil || r.Version != MustParse("1.28.2") || r.NewerPatch || !r.EndOfLife {
		t.Errorf("Resolve(v1.28.2) = %+v, %v", r, err)
	}
	r, err = Resolve("1.31.9")
	if err != nil || !r.NewerPatch || r.EndOfLife {
		t.Errorf("Resolve(1.31.9) = %+v, %v: want a newer patch of a supported line", r, err)
	}
	r, err = Resolve("1.32.0")
	if err != nil || r.NewerPatch {
		t.Errorf("Resolve(1.32.0) = %+v, %v", r, err)
	}
	for _, unknown := range []string{"1.33.0", "1.21.6", "2.0.0"} {
		if _, err := Resolve(unknown); err == nil || !strings.Contains(err.Error(), Range()) {
			t.Errorf("Resolve(%s) = %v, want an error naming %s", unknown, err, Range())
		}
	}
	if got := Supported(); got != "1.30.0-1.30.5, 1.31.0-1.31.4, 1.32.0" {
		t.Errorf("Supported() = %q", got)
	}
}

func TestFacts(t *testing.T) {
	for _, tc := range []struct {
		v                                       string
		scoping, tlsName, scope, fileKubeconfig bool
	}{
		{"1.24.6", true, false, false, false},
		{"1.25.1", false, false, false, false},
		{"1.27.3", false, true, false, false},
		{"1.28.2", false, true, true, false},
		{"1.30.3", false, true, true, true},
		{"1.32.0", false, true, true, true},
	} {
		v := MustParse(tc.v)
		if v.NeedsEnhancedScopingFlag() != tc.scoping || v.HasTLSServerName() != tc.tlsName ||
			v.HasResourceScope() != tc.scope || v.HasFileKubeconfigs() != tc.fileKubeconfig {
			t.Errorf("%s: facts differ from %+v", tc.v, tc)
		}
	}
}

// TestSailOperators pins what each operator line installs and refuses.
func TestSailOperators(t *testing.T) {
	def := DefaultSailOperator()
	if def.Line != (Line{1, 31}) {
		t.Errorf("default Sail operator = %s", def.Line)
	}
	for _, tc := range []struct {
		op, v     string
		ok, newer bool
		nearest   string
	}{
		{"1.30", "1.28.2", true, false, ""},
		{"1.30", "1.27.3", false, false, "1.28.0"}, // end of life there
		{"1.30", "1.30.4", false, true, ""},        // newer patch than the list
		{"1.31.0", "1.24.6", false, false, "1.29.0"},
		{"v1.27.9", "1.24.6", true, false, ""},
		{"1.26", "1.25.4", false, false, "1.25.3"}, // skipped by that line
		{"1.29", "1.30.3", false, false, "1.29.6"},
	} {
		op, err := LookupSailOperator(tc.op)
		if err != nil {
			t.Fatal(err)
		}
		v := MustParse(tc.v)
		ok, newer := op.Install(v)
		if ok != tc.ok || newer != tc.newer {
			t.Errorf("Sail %s, Istio %s: ok %v newer %v, want %v %v", tc.op, tc.v, ok, newer, tc.ok, tc.newer)
		}
		if tc.nearest != "" && op.Nearest(v).String() != tc.nearest {
			t.Errorf("Sail %s, Istio %s: nearest %s, want %s", tc.op, tc.v, op.Nearest(v), tc.nearest)
		}
	}
	op, err := LookupSailOperator("1.32")
	if err != nil || !op.Assumed || op.InstallRange() != "1.30.0 to 1.32.0" {
		t.Errorf("Sail 1.32 = %+v, %v: want an assumed line installing 1.30 to 1.32", op, err)
	}
	if _, err := LookupSailOperator("1.25"); err == nil {
		t.Error("Sail 1.25 accepted")
	}
	for _, op := range sailOperators {
		for _, v := range op.Installs {
			if r, ok := Lookup(v); !ok || v.Patch > r.Latest {
				t.Errorf("Sail %s installs %s, which the Istio table does not know", op.Line, v)
			}
		}
	}
}

// TestTableCoversCRD: every release the embedded Sail CRD's spec.version
// enum offers is in the table (or older than the table's first line).
func TestTableCoversCRD(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "schema", "crds", "sailoperator.io_istios.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema struct {
						Properties struct {
							Spec struct {
								Properties struct {
									Version struct {
										Enum []string `json:"enum"`
									} `json:"version"`
								} `json:"properties"`
							} `json:"spec"`
						} `json:"properties"`
					} `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	exact := regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	n := 0
	for _, e := range crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties.Spec.Properties.Version.Enum {
		if !exact.MatchString(e) {
			continue
		}
		v := MustParse(e)
		if v.Line().Compare(table[0].Line) < 0 {
			continue
		}
		n++
		if r, ok := Lookup(v); !ok || v.Patch > r.Latest {
			t.Errorf("the Sail CRD offers %s; the table does not know it", e)
		}
	}
	if n == 0 {
		t.Fatal("no versions read from the CRD")
	}
}

// TestTableMatchesCharts checks the table's chart facts against the
// released charts meshc embeds: the enhanced-scoping flag and
// global.resourceScope are in a release's charts exactly when the table
// says so.
func TestTableMatchesCharts(t *testing.T) {
	root := filepath.Join("..", "charts", "released")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		v := MustParse(e.Name())
		values, err := os.ReadFile(filepath.Join(root, e.Name(), "istiod", "values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(values), "resourceScope"); got != v.HasResourceScope() {
			t.Errorf("%s: istiod values mention resourceScope: %v; the table says %v", v, got, v.HasResourceScope())
		}
		scoping := false
		_ = filepath.WalkDir(filepath.Join(root, e.Name(), "istiod"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				scoping = scoping || strings.Contains(string(data), "ENABLE_ENHANCED_RESOURCE_SCOPING")
			}
			return err
		})
		if scoping != v.NeedsEnhancedScopingFlag() {
			t.Errorf("%s: istiod chart sets ENABLE_ENHANCED_RESOURCE_SCOPING: %v; the table says %v", v, scoping, v.NeedsEnhancedScopingFlag())
		}
		amb := v.AmbientSupport()
		profile, err := os.ReadFile(filepath.Join(root, e.Name(), "istiod", "files", "profile-ambient.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(profile), "istio.io/global"); got != (amb.GlobalServiceLabel == "istio.io/global") {
			t.Errorf("%s: the ambient profile makes istio.io/global services global: %v; the table says %q", v, got, amb.GlobalServiceLabel)
		}
		daemonset, err := os.ReadFile(filepath.Join(root, e.Name(), "ztunnel", "templates", "daemonset.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(daemonset), "name: NETWORK"); got != amb.ZtunnelNetwork {
			t.Errorf("%s: the ztunnel DaemonSet sets NETWORK: %v; the table says %v", v, got, amb.ZtunnelNetwork)
		}
	}
}

// TestAmbientMinimums pins the ambient release boundaries the checks
// quote: GA from 1.24, multicluster alpha from 1.27, beta from 1.29.
func TestAmbientMinimums(t *testing.T) {
	alpha, beta := AmbientMultiClusterMinimum()
	if AmbientMinimum().String() != "1.24.0" || alpha.String() != "1.27.0" || beta.String() != "1.29.0" {
		t.Errorf("ambient minimums %s, %s, %s; want 1.24.0, 1.27.0, 1.29.0", AmbientMinimum(), alpha, beta)
	}
	for _, op := range SailOperators() {
		want := "sailoperator.io/v1alpha1"
		if op.Line.Minor >= 28 {
			want = "sailoperator.io/v1"
		}
		if got := op.ZTunnelAPIVersion(); got != want {
			t.Errorf("Sail %s: ZTunnel %s, want %s", op.Line, got, want)
		}
	}
}
