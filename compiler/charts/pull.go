package charts

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/downloader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
)

// publishedCharts are the charts `meshc charts pull` fetches, by the name
// Istio publishes them under.
var publishedCharts = []string{"base", "istiod", "cni", "gateway", "ztunnel"}

// registryOptions are extra options of the OCI registry client: a test's
// registry on 127.0.0.1 speaks plain HTTP.
var registryOptions []registry.ClientOption

// Pull fetches the charts of an Istio release from repository (HTTP, or
// OCI as oci://host/path) into dest/<version>/<chart>, with Helm's own
// client, as `helm pull --untar` would. The release's folder appears whole
// or not at all: charts are pulled into a temporary folder beside it and
// renamed into place. A release already in dest is left as it is (pulled
// charts never change) and Pull reports false.
func Pull(repository, version, dest string) (bool, error) {
	final := filepath.Join(dest, version)
	if isRelease(os.DirFS(final)) {
		return false, nil
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(dest, ".pull-"+version+"-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	// Helm's settings would read and write the user's repository list and
	// cache; a pull by URL needs neither.
	settings := cli.New()
	settings.RepositoryConfig = filepath.Join(tmp, ".helm", "repositories.yaml")
	settings.RepositoryCache = filepath.Join(tmp, ".helm", "cache")
	getters := getter.All(settings)
	d := downloader.ChartDownloader{
		Out: io.Discard, Verify: downloader.VerifyNever, Getters: getters,
		RepositoryConfig: settings.RepositoryConfig, RepositoryCache: settings.RepositoryCache,
	}
	oci := registry.IsOCI(repository)
	if oci {
		client, err := registry.NewClient(append([]registry.ClientOption{registry.ClientOptWriter(io.Discard),
			registry.ClientOptCredentialsFile(filepath.Join(tmp, ".helm", "registry.json"))}, registryOptions...)...)
		if err != nil {
			return false, err
		}
		d.RegistryClient = client
		d.Options = append(d.Options, getter.WithRegistryClient(client))
	}
	archives := filepath.Join(tmp, ".helm", "archives")
	if err := os.MkdirAll(archives, 0o755); err != nil {
		return false, err
	}
	for _, name := range publishedCharts {
		ref := strings.TrimSuffix(repository, "/") + "/" + name
		if !oci {
			// An HTTP repository's index says where each chart version is.
			if ref, err = repo.FindChartInRepoURL(repository, name, version, "", "", "", getters); err != nil {
				return false, fmt.Errorf("chart %s %s in %s: %w", name, version, repository, err)
			}
		}
		saved, _, err := d.DownloadTo(ref, version, archives)
		if err != nil {
			return false, fmt.Errorf("pulling chart %s %s from %s: %w", name, version, repository, err)
		}
		if err := chartutil.ExpandFile(tmp, saved); err != nil {
			return false, fmt.Errorf("unpacking chart %s %s: %w", name, version, err)
		}
	}
	if err := os.RemoveAll(filepath.Join(tmp, ".helm")); err != nil {
		return false, err
	}
	if !isRelease(os.DirFS(tmp)) {
		return false, errors.New("pulled charts lack base or istiod")
	}
	if err := os.Rename(tmp, final); err != nil {
		return false, err
	}
	return true, nil
}
