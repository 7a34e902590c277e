// Package crdschema validates Kubernetes objects against the OpenAPI v3
// schemas of CustomResourceDefinitions the way the API server does on create,
// so that meshc and its tests can prove that every Istio and Sail object it
// emits would be accepted as-is, without a cluster.
//
// It does not re-implement the server's rules: it runs the apiserver's own
// algorithms from k8s.io/apiextensions-apiserver (structural pruning, OpenAPI
// validation, embedded ObjectMeta checks, list-type invariants and CEL
// x-kubernetes-validations) on a copy of the object. The one deliberate
// difference is that unknown fields are errors, as with kubectl's
// --validate=strict, rather than being silently dropped: a typo in a Helm
// value would otherwise vanish without trace.
//
// Import direction: this package imports only the Kubernetes libraries and
// meshc.dev/meshc/schema (for the embedded CRDs); the compiler and tests
// import it, never the reverse.
package crdschema

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/operation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"sigs.k8s.io/yaml"

	embedded "meshc.dev/meshc/schema"
)

// Set is a collection of CRD schemas keyed by group/version/kind. It is safe
// for concurrent use: the index is immutable after Load and the schemas are
// built behind sync.Once the first time they are needed.
type Set struct {
	crds map[schema.GroupKind]*crdEntry
}

// crdEntry is one CRD file. Only its header is read by Load; the document is
// parsed on first use because the Sail CRDs are hundreds of kilobytes each
// and a compiler run typically validates a handful of kinds.
type crdEntry struct {
	file   string
	header crdHeader

	once   sync.Once
	raw    []byte // released after parsing
	parsed *apiextensionsv1.CustomResourceDefinition
	err    error

	versions map[string]*versionEntry // every version, served or not
}

// versionEntry holds one version's compiled schema, built on first use:
// a CRD such as Gateway carries three full schemas, usually only one is used.
type versionEntry struct {
	once   sync.Once
	schema *versionSchema
	err    error

	fields sync.Map // field path -> *fieldEntry, for ValidateField
}

// versionSchema is everything the apiserver derives from one CRD version to
// validate its objects.
type versionSchema struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	// preserveUnknown is spec.preserveUnknownFields (v1 CRDs must have it
	// false; kept so a legacy CRD does not report every field as unknown).
	preserveUnknown bool
	// statusSubresource: the apiserver drops status on create when the
	// status subresource is enabled, so it is not validated then.
	statusSubresource bool

	props      *apiextensions.JSONSchemaProps // internal form, for sub-schemas
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	cel        *cel.Validator // nil when the schema has no rules
}

// fieldEntry caches the schema ValidateField builds for one field path.
type fieldEntry struct {
	once sync.Once
	fsc  *fieldSchema
	err  error
}

// fieldSchema validates the value of one field by wrapping it in an object
// with that single property. Running the resource algorithms on the wrapper
// with the parent's path as prefix yields error paths that are complete
// (spec.values.pilot.envv) and evaluates rules on the field itself.
type fieldSchema struct {
	parent          *field.Path // nil when the field is at the top level
	name            string      // last path segment
	wrapper         *structuralschema.Structural
	validator       validation.SchemaValidator
	cel             *cel.Validator
	preserveUnknown bool
}

// Load indexes every *.yaml (and *.yml) CRD directly in each of dirs of fsys. It reads
// only each CRD's header (group, kind, scope, versions) with a line scan, and
// parses a CRD's schemas the first time one of its kinds is validated; a file
// the scan cannot read is parsed in full at once. Every file must hold exactly
// one apiextensions.k8s.io/v1 CustomResourceDefinition, and a group/kind may
// appear in only one file.
func Load(fsys fs.FS, dirs ...string) (*Set, error) {
	s := &Set{crds: map[schema.GroupKind]*crdEntry{}}
	for _, dir := range dirs {
		if err := s.load(fsys, dir); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// load indexes the CRDs of one folder (see Load).
func (s *Set) load(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("crdschema: %w", err)
	}
	for _, de := range entries {
		name := de.Name()
		if de.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		file := path.Join(dir, name)
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return fmt.Errorf("crdschema: %w", err)
		}
		e := &crdEntry{file: file, raw: raw}
		switch h, err := scanHeader(raw); err {
		case nil:
			e.header = h
		case errUnsure:
			// Parse now rather than guess; the once is spent so later
			// uses find the parsed document.
			e.once.Do(e.parse)
			if e.err != nil {
				return e.err
			}
			e.header = headerOf(e.parsed)
		default:
			return fmt.Errorf("crdschema: %s: %w", file, err)
		}
		if err := e.header.check(); err != nil {
			return fmt.Errorf("crdschema: %s: %w", file, err)
		}
		gk := schema.GroupKind{Group: e.header.group, Kind: e.header.crdKind}
		if prev, dup := s.crds[gk]; dup {
			return fmt.Errorf("crdschema: %s and %s both define %s", prev.file, file, gk)
		}
		e.versions = make(map[string]*versionEntry, len(e.header.versions))
		for _, v := range e.header.versions {
			e.versions[v.name] = &versionEntry{}
		}
		s.crds[gk] = e
	}
	return nil
}

// check rejects headers Load cannot serve objects for.
func (h *crdHeader) check() error {
	if h.apiVersion != "apiextensions.k8s.io/v1" || h.kind != "CustomResourceDefinition" {
		return fmt.Errorf("not an apiextensions.k8s.io/v1 CustomResourceDefinition (apiVersion %q, kind %q)", h.apiVersion, h.kind)
	}
	if h.group == "" || h.crdKind == "" {
		return fmt.Errorf("spec.group and spec.names.kind are required")
	}
	if h.scope != string(apiextensionsv1.NamespaceScoped) && h.scope != string(apiextensionsv1.ClusterScoped) {
		return fmt.Errorf("spec.scope %q is neither Namespaced nor Cluster", h.scope)
	}
	if len(h.versions) == 0 {
		return fmt.Errorf("spec.versions is empty")
	}
	return nil
}

var (
	defaultOnce sync.Once
	defaultSet  *Set
	defaultErr  error
)

// Default returns the Set of the CRDs embedded in meshc.dev/meshc/schema. It
// is loaded once per process and shared, which is safe because a Set is
// immutable apart from its internal caches.
func Default() (*Set, error) {
	defaultOnce.Do(func() {
		defaultSet, defaultErr = Load(embedded.CRDs, embedded.CRDDirs...)
	})
	return defaultSet, defaultErr
}

// Has reports whether the set knows this apiVersion/kind as a served version
// of one of its CRDs, i.e. whether an API server with these CRDs would accept
// objects of that type at all.
func (s *Set) Has(apiVersion, kind string) bool {
	_, _, ferr := s.find(apiVersion, kind)
	return ferr == nil
}

// find resolves apiVersion/kind to a CRD and one of its served versions, or
// explains, as a FieldError on the object, why it cannot.
func (s *Set) find(apiVersion, kind string) (*crdEntry, string, *FieldError) {
	switch {
	case apiVersion == "":
		return nil, "", &FieldError{Path: "apiVersion", Message: "Required value"}
	case kind == "":
		return nil, "", &FieldError{Path: "kind", Message: "Required value"}
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, "", &FieldError{Path: "apiVersion", Message: err.Error()}
	}
	e := s.crds[schema.GroupKind{Group: gv.Group, Kind: kind}]
	if e == nil {
		return nil, "", &FieldError{Path: "kind", Message: fmt.Sprintf("no CustomResourceDefinition defines kind %q in group %q", kind, gv.Group)}
	}
	if v := e.header.version(gv.Version); v == nil || !v.served {
		return nil, "", &FieldError{Path: "apiVersion", Message: fmt.Sprintf("%s is not a served version of %s.%s (served: %s)",
			apiVersion, kind, gv.Group, strings.Join(e.header.servedVersions(), ", "))}
	}
	return e, gv.Version, nil
}

// parse decodes the whole CRD document (run once per entry).
func (e *crdEntry) parse() {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(e.raw, crd); err != nil {
		e.err = fmt.Errorf("crdschema: parsing %s: %w", e.file, err)
		return
	}
	e.parsed, e.raw = crd, nil
}

// load returns the parsed CRD, and checks it against the header the quick
// scan produced: Has answered from that header, so a disagreement must be
// loud rather than validate against the wrong version.
func (e *crdEntry) load() (*apiextensionsv1.CustomResourceDefinition, error) {
	e.once.Do(func() {
		e.parse()
		if e.err == nil {
			if h := headerOf(e.parsed); !h.equal(&e.header) {
				e.err = fmt.Errorf("crdschema: %s: quick header scan %+v disagrees with the parsed CRD %+v", e.file, e.header, h)
			}
		}
	})
	return e.parsed, e.err
}

// schemaFor returns the compiled schema of a version of e.
func (e *crdEntry) schemaFor(version string) (*versionEntry, *versionSchema, error) {
	ve := e.versions[version]
	ve.once.Do(func() {
		crd, err := e.load()
		if err != nil {
			ve.err = err
			return
		}
		ve.schema, ve.err = compile(crd, version)
		if ve.err != nil {
			ve.err = fmt.Errorf("crdschema: %s version %s: %w", e.file, version, ve.err)
		}
	})
	return ve, ve.schema, ve.err
}

// compile builds the validators for one version as the apiserver's CRD
// handler does (customresource_handler.go): internal JSONSchemaProps, then
// the structural schema, the OpenAPI validator and the CEL validator.
func compile(crd *apiextensionsv1.CustomResourceDefinition, version string) (*versionSchema, error) {
	var v *apiextensionsv1.CustomResourceDefinitionVersion
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == version {
			v = &crd.Spec.Versions[i]
		}
	}
	if v == nil || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("no openAPIV3Schema")
	}
	props := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, props, nil); err != nil {
		return nil, fmt.Errorf("converting schema: %w", err)
	}
	structural, err := structuralschema.NewStructural(props)
	if err != nil {
		return nil, fmt.Errorf("schema is not structural: %w", err)
	}
	validator, _, err := validation.NewSchemaValidator(props)
	if err != nil {
		return nil, fmt.Errorf("building OpenAPI validator: %w", err)
	}
	return &versionSchema{
		gvk:               schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: crd.Spec.Names.Kind},
		namespaced:        crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		preserveUnknown:   crd.Spec.PreserveUnknownFields,
		statusSubresource: v.Subresources != nil && v.Subresources.Status != nil,
		props:             props,
		structural:        structural,
		validator:         validator,
		// PerCallLimit is the apiserver's own per-expression limit, so a
		// rule that is too expensive fails here as it would there.
		cel: cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}, nil
}

// resolve is find followed by schemaFor.
func (s *Set) resolve(apiVersion, kind string) (*versionEntry, *versionSchema, *FieldError, error) {
	e, version, ferr := s.find(apiVersion, kind)
	if ferr != nil {
		return nil, nil, ferr, nil
	}
	ve, vs, err := e.schemaFor(version)
	return ve, vs, nil, err
}

// Validate checks obj (apiVersion, kind, metadata, spec, ...) as the API
// server would on create with strict field validation:
//   - apiVersion must be a served version of a known CRD;
//   - metadata is validated as ObjectMeta (name required and a DNS
//     subdomain, labels, annotations, ...); metadata.namespace must be set
//     for Namespaced kinds and absent for Cluster-scoped ones;
//   - unknown fields are errors, found with the structural pruning
//     algorithm (so x-kubernetes-preserve-unknown-fields and embedded
//     resources behave as on the server) and strict ObjectMeta decoding;
//   - the OpenAPI schema (types, enums, required, patterns, bounds, formats),
//     embedded-resource and list-type invariants are enforced;
//   - CEL x-kubernetes-validations are evaluated with create semantics
//     (transition rules using oldSelf are skipped) and the apiserver's cost
//     budget per object.
//
// Nothing is defaulted: the object is validated as written, so a required
// field that has a schema default is still reported missing.
//
// Validate returns nil, Errors listing every problem, or another error when
// the CRD's schema itself cannot be parsed or compiled.
func (s *Set) Validate(obj map[string]any) error {
	for _, name := range []string{"apiVersion", "kind"} {
		if v, present := obj[name]; present {
			if _, ok := v.(string); !ok {
				return Errors{{Path: name, Message: fmt.Sprintf("Invalid value: must be a string, not %T", v)}}
			}
		}
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	_, vs, ferr, err := s.resolve(apiVersion, kind)
	if err != nil {
		return err
	}
	if ferr != nil {
		return Errors{*ferr}
	}

	// Work on a copy that has been through JSON, as the server does: this
	// also turns Go values the compiler may build (int, []string, structs)
	// into the int64/float64/[]any forms the algorithms expect.
	var u map[string]any
	var c collector
	if err := roundTrip(obj, &u); err != nil {
		c.add("", err.Error())
		return c.result()
	}
	ctx := context.Background()

	// Root metadata is decoded into ObjectMeta (strictly, so unknown keys
	// are reported) and validated like any object's; the server does this
	// before and independently of the schema.
	meta, _, unknownMeta, err := objectmeta.GetObjectMetaWithOptions(u, objectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		c.addFieldError(field.Invalid(field.NewPath("metadata"), u["metadata"], err.Error()))
	} else {
		if meta == nil {
			meta = &metav1.ObjectMeta{}
		}
		c.addUnknown(unknownMeta)
		c.addFieldErrors(apivalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, vs.namespaced,
			apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"), utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta)))
	}

	// Decoding: pruning reports unknown fields (the server drops them, or
	// rejects them under strict validation), nulls in non-nullable fields
	// are dropped as the server does, embedded resources' metadata is
	// coerced.
	if !vs.preserveUnknown {
		c.addUnknown(pruning.PruneWithOptions(u, vs.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}))
		defaulting.PruneNonNullableNullsWithoutDefaults(u, vs.structural)
	}
	ferrCoerce, unknownEmbedded := objectmeta.CoerceWithOptions(nil, u, vs.structural, false, objectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	c.addUnknown(unknownEmbedded)
	if ferrCoerce != nil {
		c.addFieldError(ferrCoerce)
	}
	if vs.statusSubresource {
		delete(u, "status")
	}

	schemaErrs := validation.ValidateCustomResource(nil, u, vs.validator)
	c.addFieldErrors(schemaErrs)
	c.addFieldErrors(objectmeta.Validate(ctx, nil, u, vs.structural, false))
	c.addFieldErrors(listtype.ValidateListSetsAndMaps(nil, vs.structural, u))
	runCEL(ctx, &c, vs.cel, nil, vs.structural, u, schemaErrs, "")
	return c.result()
}

// runCEL evaluates the rules unless the schema errors make that unsafe. The
// server skips CEL when a value has the wrong type, is missing or is over a
// size limit, since rules assume the schema holds; it looks at all errors
// including metadata ones, here only schema errors block so that a missing
// namespace does not hide rule failures (the verdict is the same: invalid).
//
// notePath is where the "not evaluated" note is reported: the object or the
// field being validated.
func runCEL(ctx context.Context, c *collector, v *cel.Validator, pth *field.Path, s *structuralschema.Structural, obj any, schemaErrs field.ErrorList, notePath string) {
	if v == nil {
		return
	}
	for _, e := range schemaErrs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			c.add(notePath, "x-kubernetes-validations rules were not evaluated because of the other errors; fix them to check the rules")
			return
		}
	}
	errs, _ := v.Validate(ctx, pth, s, obj, nil, celconfig.RuntimeCELCostBudget)
	c.addFieldErrors(errs)
}

// ValidateField checks value against the schema of the field at fieldPath
// (dotted, e.g. "spec.values"; map keys allowed where the schema has
// additionalProperties, list items are not addressable) inside kind's
// schema, with the same rules as Validate: types, enums, unknown fields, and
// the CEL rules declared on that field and below it (rules on its parents,
// which may compare it with siblings, cannot be evaluated without them).
//
// Error paths are complete, e.g. "spec.values.pilot.envv"; use
// Errors.TrimPrefix for paths relative to fieldPath. A missing or nil value
// is valid. It returns Errors for problems in value, and another error when
// apiVersion, kind or fieldPath do not name a schema: those are the
// caller's mistakes, not the data's.
func (s *Set) ValidateField(apiVersion, kind, fieldPath string, value any) error {
	ve, vs, ferr, err := s.resolve(apiVersion, kind)
	if err != nil {
		return err
	}
	if ferr != nil {
		return fmt.Errorf("crdschema: %s: %s", ferr.Path, ferr.Message)
	}
	fsc, err := vs.field(ve, fieldPath)
	if err != nil {
		return err
	}

	var v any
	var c collector
	if err := roundTrip(value, &v); err != nil {
		c.add(fieldPath, err.Error())
		return c.result()
	}
	obj := map[string]any{fsc.name: v}
	ctx := context.Background()
	if !fsc.preserveUnknown {
		var parentPath []string // fresh per call: the pruner appends to it
		if fsc.parent != nil {
			parentPath = []string{fsc.parent.String()}
		}
		c.addUnknown(pruning.PruneWithOptions(obj, fsc.wrapper, false, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true, ParentPath: parentPath}))
		defaulting.PruneNonNullableNullsWithoutDefaults(obj, fsc.wrapper)
	}
	ferrCoerce, unknownEmbedded := objectmeta.CoerceWithOptions(fsc.parent, obj, fsc.wrapper, false, objectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	c.addUnknown(unknownEmbedded)
	if ferrCoerce != nil {
		c.addFieldError(ferrCoerce)
	}
	schemaErrs := validation.ValidateCustomResource(fsc.parent, obj, fsc.validator)
	c.addFieldErrors(schemaErrs)
	c.addFieldErrors(objectmeta.Validate(ctx, fsc.parent, obj, fsc.wrapper, false))
	c.addFieldErrors(listtype.ValidateListSetsAndMaps(fsc.parent, fsc.wrapper, obj))
	runCEL(ctx, &c, fsc.cel, fsc.parent, fsc.wrapper, obj, schemaErrs, fieldPath)
	return c.result()
}

// field returns the (cached) wrapper schema for fieldPath.
func (vs *versionSchema) field(ve *versionEntry, fieldPath string) (*fieldSchema, error) {
	v, _ := ve.fields.LoadOrStore(fieldPath, &fieldEntry{})
	fe := v.(*fieldEntry)
	fe.once.Do(func() {
		fe.fsc, fe.err = vs.buildField(fieldPath)
	})
	return fe.fsc, fe.err
}

func (vs *versionSchema) buildField(fieldPath string) (*fieldSchema, error) {
	segs := strings.Split(fieldPath, ".")
	st, props := vs.structural, vs.props
	for i, seg := range segs {
		if seg == "" {
			return nil, fmt.Errorf("crdschema: field path %q has an empty segment", fieldPath)
		}
		var ok bool
		st, props, ok = child(st, props, seg)
		if !ok {
			return nil, fmt.Errorf("crdschema: %s has no field %q in the schema of %s", vs.gvk.GroupVersion(), strings.Join(segs[:i+1], "."), vs.gvk.Kind)
		}
	}
	name := segs[len(segs)-1]
	fsc := &fieldSchema{
		name:            name,
		preserveUnknown: vs.preserveUnknown,
		wrapper: &structuralschema.Structural{
			Generic:    structuralschema.Generic{Type: "object"},
			Properties: map[string]structuralschema.Structural{name: *st},
		},
	}
	if len(segs) > 1 {
		fsc.parent = field.NewPath(segs[0], segs[1:len(segs)-1]...)
	}
	validator, _, err := validation.NewSchemaValidator(&apiextensions.JSONSchemaProps{
		Type:       "object",
		Properties: map[string]apiextensions.JSONSchemaProps{name: *props},
	})
	if err != nil {
		return nil, fmt.Errorf("crdschema: building OpenAPI validator for %s: %w", fieldPath, err)
	}
	fsc.validator = validator
	fsc.cel = cel.NewValidator(fsc.wrapper, false, celconfig.PerCallLimit)
	return fsc, nil
}

// child steps from a schema node to the schema of its property or map
// entry named seg, in both the structural and the internal form.
func child(st *structuralschema.Structural, props *apiextensions.JSONSchemaProps, seg string) (*structuralschema.Structural, *apiextensions.JSONSchemaProps, bool) {
	if p, ok := st.Properties[seg]; ok {
		pp, ok := props.Properties[seg]
		if !ok {
			return nil, nil, false
		}
		return &p, &pp, true
	}
	if st.AdditionalProperties != nil && st.AdditionalProperties.Structural != nil &&
		props.AdditionalProperties != nil && props.AdditionalProperties.Schema != nil {
		return st.AdditionalProperties.Structural, props.AdditionalProperties.Schema, true
	}
	return nil, nil, false
}

// roundTrip copies in into out through JSON, decoding numbers as the API
// server does (int64 when integral, float64 otherwise).
func roundTrip(in any, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("cannot encode as JSON: %w", err)
	}
	if err := utiljson.Unmarshal(b, out); err != nil {
		return fmt.Errorf("cannot decode JSON: %w", err)
	}
	return nil
}
