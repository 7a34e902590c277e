package load

import (
	"bytes"
	"encoding/json"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/encoding/jsonschema"

	"meshc.dev/meshc/schema"
)

// JSONSchemaID is the $id of the JSON Schema of the topology language.
const JSONSchemaID = "https://meshc.dev/schema/v1alpha1/topology.json"

// JSONSchema returns the topology language as a JSON Schema (draft
// 2020-12), generated from the embedded CUE schema so the two never
// disagree: editors use it for completion and checks as one types.
func JSONSchema() ([]byte, error) {
	ctx := cuecontext.New()
	sch := ctx.CompileString(schema.Topology, cue.Filename(schemaFile))
	if err := sch.Err(); err != nil {
		return nil, fmt.Errorf("compiling embedded schema: %w", err)
	}
	expr, err := jsonschema.Generate(sch.LookupPath(cue.ParsePath("#Topology")), nil)
	if err != nil {
		return nil, fmt.Errorf("generating JSON Schema: %w", err)
	}
	v := ctx.BuildExpr(expr)
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("generating JSON Schema: %w", err)
	}
	data, err := v.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding JSON Schema: %w", err)
	}
	// The generator names no $id; editors and validators key schemas by it.
	data = bytes.Replace(data, []byte("{"), []byte(`{"$id":"`+JSONSchemaID+`",`), 1)
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
