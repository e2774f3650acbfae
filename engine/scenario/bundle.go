package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// listKeys are the top-level keys whose lists LoadBundle concatenates.
var listKeys = []string{"groups", "users", "dataSources", "policies", "grants", "steps"}

// LoadBundle reads a bundle (or scenario) from a file, or from a directory whose
// *.yaml, *.yml and *.json files (recursively, in name order) are fragments of one
// bundle: their groups, users, dataSources, policies, grants and steps lists are
// concatenated in file order, and any other key (name, description, now, state,
// expect) may appear in several fragments only with the same value. A bundle
// without a name is named after the path.
func LoadBundle(path string) (*Scenario, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var doc []byte
	if info.IsDir() {
		doc, err = mergeFragments(path)
	} else {
		doc, err = os.ReadFile(path)
		if err == nil {
			doc, err = toJSON(doc)
		}
	}
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("%s: not a mapping: %w", path, err)
	}
	if _, ok := top["name"]; !ok {
		top["name"], _ = json.Marshal(filepath.Base(filepath.Clean(path)))
		if doc, err = json.Marshal(top); err != nil {
			return nil, err
		}
	}
	s, err := Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.File = path
	return s, nil
}

func mergeFragments(dir string) ([]byte, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.json files", dir)
	}
	merged := map[string]json.RawMessage{}
	lists := map[string][]json.RawMessage{}
	from := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		j, err := toJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(j, &top); err != nil {
			return nil, fmt.Errorf("%s: not a mapping: %w", f, err)
		}
		for k, v := range top {
			if slices.Contains(listKeys, k) {
				if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
					continue
				}
				var items []json.RawMessage
				if err := json.Unmarshal(v, &items); err != nil {
					return nil, fmt.Errorf("%s: %s: must be a list", f, k)
				}
				lists[k] = append(lists[k], items...)
				continue
			}
			if prev, ok := merged[k]; ok && !bytes.Equal(prev, v) {
				return nil, fmt.Errorf("%s: %s differs from the value in %s", f, k, from[k])
			}
			merged[k], from[k] = v, f
		}
	}
	for k, items := range lists {
		data, err := json.Marshal(items)
		if err != nil {
			return nil, err
		}
		merged[k] = data
	}
	return json.Marshal(merged)
}
