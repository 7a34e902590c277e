package diag

// The catalogue of diagnostic codes. E0xx come from loading and the schema,
// E1xx from meshc's semantic checks. Each code has a testscript case under
// internal/cli/testdata/script pinning its text.
const (
	// Loading and schema.
	Syntax          Code = "E001" // the file cannot be parsed
	UnknownField    Code = "E002" // a field the schema does not define
	InvalidValue    Code = "E003" // a value of the wrong type, enum or format
	MissingField    Code = "E004" // a required field is absent
	UnsupportedFile Code = "E005" // an input that is not .cue, .yaml, .yml or .json
	InputLimit      Code = "E006" // input beyond meshc's limits: nesting depth, alias expansion
	DuplicateKey    Code = "E007" // a key written twice in one YAML or JSON mapping
	EvalTimeout     Code = "E008" // a CUE topology that evaluates for longer than the time limit

	// References.
	UndefinedNetwork      Code = "E101"
	UndefinedCluster      Code = "E102"
	UndefinedMesh         Code = "E103"
	UndefinedControlPlane Code = "E104"
	UndefinedRevision     Code = "E105" // a tenant selects a revision its control plane does not serve

	// Names.
	InvalidName Code = "E110" // a key that is not a DNS-1123 label

	// Namespaces and discovery.
	NamespaceConflict     Code = "E120" // a namespace claimed twice in one cluster
	DiscoveryOverlap      Code = "E121" // two control planes' discovery selectors can match one namespace
	UnscopedControlPlane  Code = "E122" // a control plane without selectors beside another
	AmbiguousControlPlane Code = "E123" // a tenant could join several control planes
	ClusterNotServed      Code = "E124" // a tenant names a cluster its mesh has no control plane for
	ReservedNamespace     Code = "E125" // a tenant claims a system or Kubernetes namespace

	// Revisions.
	DuplicateRevision     Code = "E130" // a revision or tag name used twice in one cluster
	SharedSystemNamespace Code = "E131" // control planes of two meshes in one system namespace
	MultipleDefaults      Code = "E132" // more than one default revision or tag in a cluster

	// Versions.
	UnsupportedVersion Code = "E140" // a release meshc does not know, or control planes too far apart
	SailWillNotInstall Code = "E141" // a release the Sail operator release the topology runs against will not install
	MissingCharts      Code = "E142" // the rendered target has no charts of a release
	ChartsNotPublished Code = "E143" // the helm target's repository does not publish a release's charts

	// Multicluster.
	RemoteManagedTwice  Code = "E160" // a remote cluster managed by two control planes of one mesh
	RemoteUnreachable   Code = "E161" // a control plane with remotes but no way for them to reach it
	CIDROverlap         Code = "E162" // clusters on one network whose pod or service ranges overlap
	MissingEastWest     Code = "E163" // a mesh spanning networks without east-west gateways
	NoSharedTrust       Code = "E164" // a mesh with control planes in several clusters and no shared root
	MissingAPIServer    Code = "E165" // a cluster discovered from another has no apiServer
	MissingSecretSource Code = "E166" // a trust or remote-secret mode without its issuer or store
	RemoteIsPrimary     Code = "E167" // a remote that runs a control plane of the same mesh
	MissingNetwork      Code = "E168" // a cluster without a network in a mesh that spans networks
	ExternalInDataPlane Code = "E169" // an external control plane hosted in a cluster of its own data plane
	BadConfigCluster    Code = "E170" // an external control plane whose config cluster is not among its remotes
	NoHostingGateway    Code = "E171" // istiod exposed through an ingress gateway no control plane can run

	// Secrets.
	Secret Code = "E180" // a private key or credential where only public data may go (input or output)

	// The ambient data plane.
	AmbientProfile      Code = "E190" // a profile that contradicts the mesh's data plane
	AmbientRelease      Code = "E191" // ambient (or ambient across clusters) on a release without it
	AmbientTopology     Code = "E192" // ambient with a remote or an external control plane
	SharedZtunnel       Code = "E193" // two ambient meshes in one cluster, which has one ztunnel
	AmbientTenant       Code = "E194" // an ambient tenant of a sidecar mesh, which has no ztunnel
	UnsupportedWaypoint Code = "E195" // a waypoint per service account, or for a sidecar tenant
	WaypointsDiffer     Code = "E196" // a namespace with a waypoint in some clusters of an ambient mesh and not in others

	// Warnings: risks rather than certain failures. Each is printed with
	// its position and hint, and compilation goes on unless --strict.
	HandLabelOverlap   Code = "W121" // two meshes' selectors could both match only a namespace labelled by hand
	PublicIstiod       Code = "W161" // istiod exposed on a load balancer with nothing saying it is internal
	ExposeServiceClash Code = "W162" // two control planes shape one gateway Service differently
	NewerPatch         Code = "W140" // a patch release newer than meshc knows, of a line it knows
	EndOfLife          Code = "W141" // a release the Istio project no longer patches
	SailUnlisted       Code = "W142" // a Sail operator release or Istio patch meshc cannot confirm it installs
	LegacyChartHost    Code = "W143" // the helm target's charts from the host that goes away in December 2026
	AmbientAlpha       Code = "W191" // ambient across clusters where upstream calls it alpha (1.27, 1.28, or one network)
	MixedDataPlanes    Code = "W194" // sidecar tenants in an ambient mesh across clusters (known issues upstream)

	// Helm values.
	InvalidValues Code = "E150" // values that Istio does not know or of the wrong type
	OwnedValues   Code = "E151" // values that set a field meshc computes
)
