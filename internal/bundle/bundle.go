// Package bundle reads, validates and writes Agent Skills bundles: a folder
// with a SKILL.md (YAML frontmatter + Markdown) and optional files. It knows
// nothing of the database or of tenants.
package bundle

// File is one file of a bundle. Path is relative, '/'-separated.
type File struct {
	Path string
	Data []byte
}

// Frontmatter is the parsed YAML header of SKILL.md, per the Agent Skills
// specification. Keys the specification does not name are kept in Extra.
type Frontmatter struct {
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	License       string            `json:"license,omitempty"`
	Compatibility string            `json:"compatibility,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	AllowedTools  []string          `json:"allowed-tools,omitempty"`
	Extra         map[string]any    `json:"extra,omitempty"`
}

// Bundle is a validated skill bundle.
type Bundle struct {
	Frontmatter Frontmatter
	Title       string // first Markdown heading of the body, or the name
	Body        string // SKILL.md without its frontmatter
	Files       []File // sorted by path (bytewise), SKILL.md included
	Digest      string // "sha256:<hex>", Agent Skills Discovery RFC v0.2.0
}
