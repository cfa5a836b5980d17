package boards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MarshalJSON writes the profile in the YAML file's vocabulary (keys
// load_addr, uboot; durations "0s"; addresses "0x30008000"), keys in
// the file's order, so that the JSON can be loaded back as a profile
// (JSON is YAML).
func (p Profile) MarshalJSON() ([]byte, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("board profile %s: %w", p.Name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("board profile %s: %w", p.Name, err)
	}
	var b bytes.Buffer
	if err := nodeJSON(&b, doc.Content[0]); err != nil {
		return nil, fmt.Errorf("board profile %s: %w", p.Name, err)
	}
	return b.Bytes(), nil
}

// nodeJSON writes a YAML node as JSON, keeping the order of mappings.
func nodeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := nodeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := nodeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		return scalarJSON(b, n)
	default:
		return fmt.Errorf("YAML node kind %v has no JSON form", n.Kind)
	}
	return nil
}

func scalarJSON(b *bytes.Buffer, n *yaml.Node) error {
	var v any = n.Value
	switch n.ShortTag() {
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return fmt.Errorf("integer %q: %w", n.Value, err)
		}
		v = i
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return fmt.Errorf("number %q: %w", n.Value, err)
		}
		v = f
	case "!!bool":
		v = n.Value == "true"
	case "!!null":
		v = nil
	}
	out, err := json.Marshal(v)
	b.Write(out)
	return err
}
