package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// Limits on raw input, checked before anything is decoded, so a pathological value (100,000
// tags, a megabyte of services) fails in microseconds instead of costing the synth minutes. The
// largest committed value (prod's services) is well under 2 KB.
const (
	MaxValueBytes = 32 * 1024  // one config value
	MaxConfigKeys = 200        // keys of the stack config, every namespace together
	MaxNesting    = 8          // depth of a structured value
	maxRawBytes   = 256 * 1024 // every value together
)

// decimalRE is a plain decimal number, as YAML and the Pulumi CLI write one: no Inf, NaN, hex
// or exponent forms that ParseFloat would also take.
var decimalRE = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,6})?$`)

// checkSizes rejects raw input over the limits; it reports whether Load may go on.
func (l *loader) checkSizes() bool {
	if len(l.raw) > MaxConfigKeys {
		l.fail("stack", "config has %d keys; at most %d are read", len(l.raw), MaxConfigKeys)
		return false
	}
	total := 0
	for _, k := range sortedKeys(l.raw) {
		total += len(k) + len(l.raw[k])
		if len(l.raw[k]) > MaxValueBytes {
			l.fail(k, "is %d bytes; a value may have at most %d", len(l.raw[k]), MaxValueBytes)
		}
	}
	if total > maxRawBytes {
		l.fail("stack", "config is %d bytes; at most %d are read", total, maxRawBytes)
	}
	return len(l.errs) == 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// strictJSON decodes v into into, refusing what encoding/json lets through: trailing data after
// the value, a key twice in one object, and keys that match a field only when case is ignored
// (encoding/json would honour PATHPREFIX as pathPrefix). It returns the full key and reason of
// the first problem, or a decoding error for decodeJSON to explain.
func strictJSON(k, v string, into any) (badKey, reason string, err error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", "", err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return k, "has data after the value; write one JSON value", nil
	}
	if badKey, reason := checkKeys(k, []byte(v), reflect.TypeOf(into), 0); badKey != "" {
		return badKey, reason, nil
	}
	dec = json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.DisallowUnknownFields()
	return "", "", dec.Decode(into)
}

// checkKeys walks a JSON value against the Go type it decodes into and names the first
// duplicate key, or the first key no field spells exactly.
func checkKeys(path string, raw []byte, t reflect.Type, depth int) (string, string) {
	if depth > MaxNesting {
		return path, fmt.Sprintf("is nested more than %d levels deep", MaxNesting)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '[' && t.Kind() == reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return "", "" // the typed decode reports it
		}
		for i, item := range items {
			if k, why := checkKeys(fmt.Sprintf("%s[%d]", path, i), item, t.Elem(), depth+1); k != "" {
				return k, why
			}
		}
	case len(raw) > 0 && raw[0] == '{' && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map):
		keys, values, ok := objectKeys(raw)
		if !ok {
			return "", ""
		}
		fields := fieldTypes(t)
		seen := map[string]bool{}
		for i, name := range keys {
			if seen[name] {
				return path + "." + name, "is given twice; write each key once"
			}
			seen[name] = true
			var elem reflect.Type
			if t.Kind() == reflect.Map {
				elem = t.Elem()
			} else if ft, ok := fields[name]; ok {
				elem = ft
			} else {
				return path + "." + name, "unknown key" + didYouMean(name, jsonFields(reflect.New(t).Interface()))
			}
			if k, why := checkKeys(path+"."+name, values[i], elem, depth+1); k != "" {
				return k, why
			}
		}
	}
	return "", ""
}

// objectKeys lists an object's keys and raw values in document order, repeats included.
func objectKeys(raw []byte) ([]string, []json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, nil, false
	}
	var keys []string
	var values []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		name, isKey := tok.(string)
		if err != nil || !isKey {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys, values = append(keys, name), append(values, v)
	}
	return keys, values, true
}

// fieldTypes maps a struct's exact json names to their field types.
func fieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag != "" {
			out[tag] = t.Field(i).Type
		}
	}
	return out
}
