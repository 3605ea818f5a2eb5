package validation

import (
	"math"
	"strconv"
	"unicode/utf8"

	yaml2 "go.yaml.in/yaml/v2"
)

// decode reads a document into the value kubeconform validates: what
// sigs.k8s.io/yaml's Unmarshal (UnmarshalStrict when strict) gives into a
// map[string]any, which is go-yaml v2's parse (YAML 1.1: yes/no are
// booleans; duplicate keys an error when strict), then its result turned
// into JSON, then JSON read back (every number a float64). The parse is
// the same here (or, for the plain YAML most manifests are, fastDecode's
// reading of it); the JSON round trip, a third of the cost, is not: the
// values are converted in place, to the same ones.
//
// ok is false for anything that does not convert plainly (an error, a
// key JSON has no form for, two keys that read the same, NaN, a string
// that is not UTF-8, a document that is not a mapping): kubeconform's
// own path then reads it and gives its verdict and message. A nil map
// with ok is an empty document.
func decode(data []byte, strict bool) (map[string]any, bool) {
	if m, ok := fastDecode(data); ok {
		return m, true
	}
	return decodeYAML(data, strict)
}

// decodeYAML is decode with go-yaml v2's parser.
func decodeYAML(data []byte, strict bool) (map[string]any, bool) {
	unmarshal := yaml2.Unmarshal
	if strict {
		unmarshal = yaml2.UnmarshalStrict
	}
	var doc any
	if err := unmarshal(data, &doc); err != nil {
		return nil, false
	}
	if doc == nil {
		return nil, true
	}
	if _, isMap := doc.(map[any]any); !isMap {
		return nil, false
	}
	v, ok := jsonValue(doc)
	if !ok {
		return nil, false
	}
	return v.(map[string]any), true
}

// maxExact is the largest magnitude every integer up to is a float64.
const maxExact = 1 << 53

// jsonValue converts a go-yaml v2 value to what JSON decoding of its
// encoding gives.
func jsonValue(v any) (any, bool) {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			key, ok := jsonKey(k)
			if !ok {
				return nil, false
			}
			if _, dup := m[key]; dup {
				return nil, false // 1 and "1": sigs.k8s.io/yaml keeps either
			}
			if m[key], ok = jsonValue(e); !ok {
				return nil, false
			}
		}
		return m, true
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			var ok bool
			if a[i], ok = jsonValue(e); !ok {
				return nil, false
			}
		}
		return a, true
	case string:
		// encoding/json writes each invalid byte as U+FFFD.
		return t, utf8.ValidString(t)
	case bool, nil:
		return t, true
	case int:
		return intFloat(int64(t)), true
	case int64:
		return intFloat(t), true
	case uint64:
		if t <= maxExact {
			return float64(t), true
		}
		f, err := strconv.ParseFloat(strconv.FormatUint(t, 10), 64)
		return f, err == nil
	case float64:
		// encoding/json refuses NaN and infinities; a finite float64
		// comes back from its shortest form as itself.
		return t, !math.IsNaN(t) && !math.IsInf(t, 0)
	}
	return nil, false
}

// intFloat is the float64 JSON decoding gives for the integer n, written
// out in decimal: n itself up to 2^53, else the nearest float64 to it, as
// strconv.ParseFloat rounds.
func intFloat(n int64) float64 {
	if n <= maxExact && n >= -maxExact {
		return float64(n)
	}
	f, _ := strconv.ParseFloat(strconv.FormatInt(n, 10), 64)
	return f
}

// jsonKey is the JSON key sigs.k8s.io/yaml makes of a go-yaml v2 key;
// false for the kinds it refuses (null, lists, maps, uint64).
func jsonKey(k any) (string, bool) {
	switch t := k.(type) {
	case string:
		return t, utf8.ValidString(t)
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case float64:
		switch s := strconv.FormatFloat(t, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", true
		case "-Inf":
			return "-.inf", true
		case "NaN":
			return ".nan", true
		default:
			return s, true
		}
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}
