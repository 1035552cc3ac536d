package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} inside every scalar value of the parsed document (never in keys or
// comments) and lists the variables that were unset, in document order.
func expandEnv(n *yaml.Node, getenv func(string) string) []string {
	var missing []string
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, false)
			}
		case yaml.MappingNode:
			for i, c := range n.Content {
				walk(c, i%2 == 0)
			}
		case yaml.ScalarNode:
			if isKey || !envRef.MatchString(n.Value) {
				return
			}
			n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
				name := envRef.FindStringSubmatch(m)[1]
				v := getenv(name)
				if v == "" {
					missing = append(missing, name)
				}
				return v
			})
			n.Tag = expandedTag(n)
		}
	}
	walk(n, false)
	return missing
}

// expandedTag is the tag an expanded scalar decodes with. A quoted reference stays a string. An
// unquoted one is read as YAML would read its value written in place, as a number, a boolean or
// empty, and as a string otherwise, so a value such as "null" or "*star" arrives exactly as it is.
func expandedTag(n *yaml.Node) string {
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return "!!str"
	}
	if n.Value == "" {
		return ""
	}
	switch (&yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}).ShortTag() {
	case "!!int", "!!float", "!!bool":
		return ""
	}
	return "!!str"
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// unknownKeys lists every mapping key in n that names no field of t, with its line: the document is
// decoded from the expanded tree, and a yaml.Node decodes leniently.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return unknownKeys(n.Content[0], t, path)
	case yaml.AliasNode:
		return unknownKeys(n.Alias, t, path)
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		var errs []error
		for i, c := range n.Content {
			errs = append(errs, unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case yaml.MappingNode:
		return unknownMappingKeys(n, t, path)
	}
	return nil
}

func unknownMappingKeys(n *yaml.Node, t reflect.Type, path string) []error {
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			errs = append(errs, unknownKeys(v, t, path)...)
			continue
		}
		switch t.Kind() {
		case reflect.Map:
			errs = append(errs, unknownKeys(v, t.Elem(), join(path, k.Value))...)
		case reflect.Struct:
			ft, ok := yamlFields(t)[k.Value]
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: %s: unknown key %q", k.Line, orTop(path), k.Value))
				continue
			}
			errs = append(errs, unknownKeys(v, ft, join(path, k.Value))...)
		}
	}
	return errs
}

// yamlFields maps the YAML keys of struct t to their field types, as yaml.v3 names them.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}
