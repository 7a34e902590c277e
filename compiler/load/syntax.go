package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"

	yamlv3 "go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler/diag"
)

// CUE's YAML and JSON decoders say little about a syntax error (often no
// position, sometimes no message). On the failure path only, the input is
// read again with a plain YAML or JSON parser for a precise diagnostic.

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlDiagnostic explains why data is not one YAML mapping document, or
// returns nil when it is one.
func yamlDiagnostic(filename string, data []byte) *diag.Diagnostic {
	if len(bytes.TrimSpace(data)) == 0 {
		return &diag.Diagnostic{
			Code:    diag.Syntax,
			Pos:     diag.Pos{File: filename},
			Message: "the file is empty",
			Hint:    "start the file with apiVersion: meshc.dev/v1alpha1 and kind: Topology",
		}
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for docs := 0; ; docs++ {
		var node yamlv3.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			d := &diag.Diagnostic{Code: diag.Syntax, Pos: diag.Pos{File: filename}, Message: "invalid YAML: " + err.Error(),
				Hint: "fix the YAML syntax at the line shown"}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				line, _ := strconv.Atoi(m[1])
				d.Pos.Line, d.Pos.Column = line, 1
				d.Message = "invalid YAML: " + m[2]
			}
			return d
		}
		if docs == 1 {
			return &diag.Diagnostic{
				Code:    diag.Syntax,
				Pos:     diag.Pos{File: filename, Line: node.Line, Column: node.Column},
				Message: "a topology is one YAML document, but the file holds several",
				Hint:    "remove the '---' separator and keep one document per topology file",
			}
		}
		if node.Kind == yamlv3.DocumentNode && len(node.Content) == 1 && node.Content[0].Kind != yamlv3.MappingNode {
			n := node.Content[0]
			return &diag.Diagnostic{
				Code:    diag.InvalidValue,
				Pos:     diag.Pos{File: filename, Line: n.Line, Column: n.Column},
				Message: "a topology is a mapping of fields, not a " + yamlKind(n),
				Hint:    "start the file with apiVersion: meshc.dev/v1alpha1 and kind: Topology",
			}
		}
	}
}

func yamlKind(n *yamlv3.Node) string {
	switch n.Kind {
	case yamlv3.SequenceNode:
		return "list"
	case yamlv3.ScalarNode:
		return "scalar value"
	}
	return "value of another kind"
}

// jsonDiagnostic explains a JSON syntax error with its position.
func jsonDiagnostic(filename string, data []byte) *diag.Diagnostic {
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil {
		return nil
	}
	d := &diag.Diagnostic{Code: diag.Syntax, Pos: diag.Pos{File: filename}, Message: "invalid JSON: " + err.Error(),
		Hint: "fix the JSON syntax at the position shown"}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		d.Pos.Line, d.Pos.Column = lineCol(data, int(syn.Offset))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		d.Message = "the file is empty"
	}
	return d
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int) (int, int) {
	offset = min(offset, len(data))
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := offset - bytes.LastIndexByte(data[:offset], '\n')
	if offset > 0 && col > 1 {
		col-- // the offset is just past the offending byte
	}
	return line, col
}
