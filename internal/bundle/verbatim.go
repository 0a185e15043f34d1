package bundle

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// VerbatimFrontmatter returns SKILL.md's frontmatter as its author wrote
// it: every key, known or not, with the value YAML gives it (strings
// untrimmed, allowed-tools as written, metadata with its own types). MCP's
// Skills extension publishes this object and hosts compare it field by
// field with the YAML they parse themselves, so it must not be the checked
// and normalised Frontmatter that ParseSkillMD returns.
func VerbatimFrontmatter(data []byte) (map[string]any, error) {
	var e Error
	yml, _, _, ok := splitFrontmatter(data, &e)
	if !ok {
		return nil, e.err()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		return nil, fmt.Errorf("frontmatter is not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || hasAlias(doc.Content[0], 0) {
		return nil, errors.New("frontmatter is not a YAML mapping without aliases")
	}
	v, why := extraValue(doc.Content[0], 0)
	if why != "" {
		return nil, errors.New("frontmatter: " + why)
	}
	return v.(map[string]any), nil
}
