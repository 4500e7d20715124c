// Package infra holds what deploys and configures Parley besides the SAM
// template: the default configuration (settings.yaml, embedded here for the
// local stack's seeding and parleyctl), the upload of the web apps
// (deploy-web), the SAM transform for linting (sam-transform), and the
// tests that check the template with cfn-lint.
package infra

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/parley-chat/parley/shared/store"
)

//go:embed settings.yaml
var defaultSettings []byte

// DefaultSettings is settings.yaml as it is in the repository.
func DefaultSettings() []byte { return bytes.Clone(defaultSettings) }

// Defaults parses settings.yaml: the configuration the local stack seeds.
func Defaults() (store.Config, error) {
	c, err := ParseConfig(defaultSettings)
	if err != nil {
		return c, fmt.Errorf("infra/settings.yaml: %w", err)
	}
	return c, nil
}

// ParseConfig reads a configuration file, YAML or JSON, whose fields are
// those of the stored settings. An unknown field is an error (a typo must
// not silently drop a setting); values are checked by store.Config's
// Validate when applied.
func ParseConfig(b []byte) (store.Config, error) {
	var c store.Config
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return c, fmt.Errorf("parse: %w", err)
	}
	if doc == nil {
		return c, nil
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return c, fmt.Errorf("parse: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse: %w", err)
	}
	return c, nil
}
