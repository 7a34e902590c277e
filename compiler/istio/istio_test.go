package istio

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/schema"
)

// TestReleasesMatchCRD keeps releases in step with the embedded Sail CRD.
func TestReleasesMatchCRD(t *testing.T) {
	data, err := schema.CRDs.ReadFile("crds/sailoperator.io_istios.yaml")
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
	var want []string
	for _, e := range crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties.Spec.Properties.Version.Enum {
		if exact.MatchString(e) {
			want = append(want, strings.TrimPrefix(e, "v"))
		}
	}
	slices.SortFunc(want, func(a, b string) int {
		va, _ := ParseVersion(a)
		vb, _ := ParseVersion(b)
		return va.Compare(vb)
	})
	if !slices.Equal(want, releases) {
		var b strings.Builder
		for _, w := range want {
			fmt.Fprintf(&b, "\t%q,\n", w)
		}
		t.Fatalf("releases.go is out of date with the Sail CRD; new list:\n%s", b.String())
	}
}

func TestSupported(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"1.28.2", true}, {"1.24.3", true}, {"1.30.3", true},
		{"1.21.6", false}, // offered by Sail, older than meshc supports
		{"1.25.0", false}, // never offered by Sail
		{"1.99.0", false},
	} {
		if got := IsSupported(tc.v); got != tc.want {
			t.Errorf("IsSupported(%s) = %v, want %v", tc.v, got, tc.want)
		}
	}
	if got := SupportedRange(); got != "1.22.5 to 1.30.3" {
		t.Errorf("SupportedRange() = %q", got)
	}
}

func TestEnhancedScopingFlag(t *testing.T) {
	for v, want := range map[string]bool{"1.22.5": true, "1.24.6": true, "1.25.1": false, "1.28.2": false} {
		pv, err := ParseVersion(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := pv.NeedsEnhancedScopingFlag(); got != want {
			t.Errorf("%s: NeedsEnhancedScopingFlag = %v, want %v", v, got, want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, bad := range []string{"", "1.28", "1.28.x", "v1.28.2", "1.28.2.1", "1.-1.0"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
	v, err := ParseVersion("1.28.2")
	if err != nil || v.SailVersion() != "v1.28.2" || v.RevisionSuffix() != "v1-28-2" {
		t.Errorf("ParseVersion(1.28.2) = %v, %v", v, err)
	}
}
