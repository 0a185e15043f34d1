package mcpserver

// MCP's Skills extension (io.modelcontextprotocol/skills, repository
// modelcontextprotocol/ext-skills, specification/stable/skills.mdx, against
// base revision 2026-07-28): skills/list, skills/get and
// resources/directory/read, over the same skill:// resources the tools and
// resources/read have always served.
//
// A skill's path is its name alone: skill://<name>/SKILL.md. The extension
// scopes a skill URI to the server that serves it (hosts key skills on
// their own label for the server plus the URI), and every tenant has its own
// endpoint and keys, so a tenant prefix would tell a host nothing it does
// not know; the short form also keeps the URIs of resources/list and of the
// tools' manifests unchanged for hosts that predate the extension.

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// SkillsExtension is the extension's identifier in capabilities.extensions.
const SkillsExtension = "io.modelcontextprotocol/skills"

// The extension's methods.
const (
	MethodListSkills    = "skills/list"
	MethodGetSkill      = "skills/get"
	MethodReadDirectory = "resources/directory/read"
)

const (
	// The extension's per-skill limits: every host accepts skills up to
	// them, so a larger skill is not served through the extension (the
	// tools and the REST API still serve it).
	MaxSkillResources = 512
	MaxSkillBytes     = 16 << 20

	// skillsPage is the number of skills per skills/list page: each entry
	// reads its version's manifest and SKILL.md.
	skillsPage = 20
	// skillsTTL is how long (ms) a host may hold an entry before asking
	// again; digests, not freshness, protect the content.
	skillsTTL = 60_000
)

// SkillResource is one file of a skill in a Skill entry.
type SkillResource struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"` // sha256:<hex> of the raw bytes
	Size   int64  `json:"size"`
}

// Skill is the extension's entry for one skill.
type Skill struct {
	URI         string          `json:"uri"`         // the SKILL.md
	Frontmatter map[string]any  `json:"frontmatter"` // verbatim, unknown keys included
	Resources   []SkillResource `json:"resources"`   // every file, SKILL.md included
}

// ListSkillsParams are skills/list's parameters.
type ListSkillsParams struct {
	mcp.ParamsBase
	Cursor string `json:"cursor,omitempty"`
}

// ListSkillsResult is skills/list's result.
type ListSkillsResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
	mcp.Cacheable
	Skills     []Skill `json:"skills"`
	NextCursor string  `json:"nextCursor,omitempty"`
}

// GetSkillParams are skills/get's parameters.
type GetSkillParams struct {
	mcp.ParamsBase
	URI string `json:"uri"`
}

// GetSkillResult is skills/get's result.
type GetSkillResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
	mcp.Cacheable
	Skill Skill `json:"skill"`
}

// ReadDirectoryParams are resources/directory/read's parameters.
type ReadDirectoryParams struct {
	mcp.ParamsBase
	URI    string `json:"uri"`
	Cursor string `json:"cursor,omitempty"`
}

// ReadDirectoryResult is resources/directory/read's result.
type ReadDirectoryResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
	mcp.Cacheable
	Resources  []*mcp.Resource `json:"resources"`
	NextCursor string          `json:"nextCursor,omitempty"`
}

// The SDK never sets resultType on custom results (its setter is
// unexported); the extension requires "complete" on all three.
const resultComplete = "complete"

// private marks an answer as the caller's own: what a key may see is not
// what another key may see, so no shared cache may keep it.
func private(ttl int) mcp.Cacheable { return mcp.Cacheable{TTLMs: ttl, CacheScope: "private"} }

// skillsCapability declares the extension with resources/directory/read.
func skillsCapability() map[string]any {
	return map[string]any{SkillsExtension: map[string]any{"directoryRead": true}}
}

type extraKey struct{}

// registerSkills adds the extension's methods to s.
func (t *tools) registerSkills(s *mcp.Server) {
	// The SDK hands a custom method its session but not the request's
	// extras, which carry the API key's actor over HTTP; this receiving
	// middleware, which does see the request, passes them on in the
	// context.
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			return next(context.WithValue(ctx, extraKey{}, req.GetExtra()), method, req)
		}
	})
	must(mcp.AddReceivingCustomMethod(s, MethodListSkills, t.listSkills))
	must(mcp.AddReceivingCustomMethod(s, MethodGetSkill, t.getSkillEntry))
	must(mcp.AddReceivingCustomMethod(s, MethodReadDirectory, t.readDirectory))
}

// must panics on an error only a programming mistake can cause (a custom
// method shadowing a standard one).
func must(err error) {
	if err != nil {
		panic(err)
	}
}

func (t *tools) skillsBackend(ctx context.Context) (Backend, error) {
	extra, _ := ctx.Value(extraKey{}).(*mcp.RequestExtra)
	b, err := t.backendFor(ctx, extra)
	if err != nil {
		return nil, t.rpcError("authentication", err)
	}
	return b, nil
}

func (t *tools) listSkills(ctx context.Context, _ *mcp.ServerSession, p *ListSkillsParams) (*ListSkillsResult, error) {
	b, err := t.skillsBackend(ctx)
	if err != nil {
		return nil, err
	}
	cursor := ""
	if p != nil {
		cursor = p.Cursor
	}
	skills, next, err := b.ListSkills(ctx, ListQuery{Cursor: cursor, Limit: skillsPage})
	if err != nil {
		return nil, t.rpcError(MethodListSkills, err)
	}
	out := &ListSkillsResult{ResultType: resultComplete, Cacheable: private(skillsTTL), Skills: []Skill{}, NextCursor: next}
	for _, sk := range skills {
		e, err := skillEntry(ctx, b, sk)
		switch {
		case errors.Is(err, errOverLimits), service.KindOf(err) == service.NotFound:
			// Too big for hosts, or deleted since the page was read.
			continue
		case err != nil:
			return nil, t.rpcError(MethodListSkills, err)
		}
		out.Skills = append(out.Skills, e)
	}
	return out, nil
}

func (t *tools) getSkillEntry(ctx context.Context, _ *mcp.ServerSession, p *GetSkillParams) (*GetSkillResult, error) {
	b, err := t.skillsBackend(ctx)
	if err != nil {
		return nil, err
	}
	uri := ""
	if p != nil {
		uri = p.URI
	}
	// A skill the key may not see is answered exactly as one that does
	// not exist: the same code and message.
	notServed := &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "no skill is served at " + uri}
	name, file, err := parseFileURI(uri)
	if err != nil || file != bundle.SkillFile || checkName(name) != nil {
		return nil, notServed
	}
	sk, err := b.Skill(ctx, name)
	if service.KindOf(err) == service.NotFound {
		return nil, notServed
	}
	if err != nil {
		return nil, t.rpcError(MethodGetSkill, err)
	}
	e, err := skillEntry(ctx, b, sk)
	switch {
	case errors.Is(err, errOverLimits):
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("%s is larger than the Skills extension allows (%d files, %d bytes): %v; "+
			"read it with the get_skill and read_skill_file tools or download it from Skillvault", uri, MaxSkillResources, MaxSkillBytes, err)}
	case service.KindOf(err) == service.NotFound:
		return nil, notServed
	case err != nil:
		return nil, t.rpcError(MethodGetSkill, err)
	}
	return &GetSkillResult{ResultType: resultComplete, Cacheable: private(skillsTTL), Skill: e}, nil
}

var errOverLimits = errors.New("over the Skills extension's limits")

// skillEntry builds the entry of a skill's current version, the one
// resources/read serves.
func skillEntry(ctx context.Context, b Backend, sk store.Skill) (Skill, error) {
	v, err := b.Version(ctx, sk.Name, currentRef(sk))
	if err != nil {
		return Skill{}, err
	}
	var total int64
	for _, f := range v.Files {
		total += f.Size
	}
	if len(v.Files) > MaxSkillResources || total > MaxSkillBytes {
		return Skill{}, fmt.Errorf("%w: it has %d files of %d bytes", errOverLimits, len(v.Files), total)
	}
	md, err := versionFile(ctx, b, sk.Name, v, bundle.SkillFile, MaxSkillBytes)
	if err != nil {
		return Skill{}, err
	}
	fm, err := bundle.VerbatimFrontmatter(md.data)
	if err != nil {
		return Skill{}, fmt.Errorf("frontmatter of %s version %d: %w", sk.Name, v.Number, err)
	}
	e := Skill{URI: fileURI(sk.Name, bundle.SkillFile), Frontmatter: fm, Resources: make([]SkillResource, len(v.Files))}
	for i, f := range v.Files {
		e.Resources[i] = SkillResource{URI: fileURI(sk.Name, f.Path), Digest: "sha256:" + f.SHA256, Size: f.Size}
	}
	return e, nil
}

func (t *tools) readDirectory(ctx context.Context, _ *mcp.ServerSession, p *ReadDirectoryParams) (*ReadDirectoryResult, error) {
	b, err := t.skillsBackend(ctx)
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = &ReadDirectoryParams{}
	}
	if p.Cursor != "" {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "cursor is not one this server returned: it lists a directory in one page"}
	}
	missing := &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "no directory resource is served at " + p.URI}
	name, dir, ok := parseDirURI(p.URI)
	if !ok || checkName(name) != nil {
		return nil, missing
	}
	sk, v, err := resolve(ctx, b, name, 0)
	if service.KindOf(err) == service.NotFound {
		return nil, missing
	}
	if err != nil {
		return nil, t.rpcError(MethodReadDirectory, err)
	}
	children := dirChildren(sk, dir, v.Files)
	if len(children) == 0 {
		for _, f := range v.Files {
			if f.Path == dir {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: p.URI + " is not a directory resource"}
			}
		}
		return nil, missing
	}
	return &ReadDirectoryResult{ResultType: resultComplete, Cacheable: private(skillsTTL), Resources: children}, nil
}

// parseDirURI splits skill://{name} and skill://{name}/{dir}; directory
// URIs have no trailing slash.
func parseDirURI(uri string) (name, dir string, ok bool) {
	rest, ok := strings.CutPrefix(uri, "skill://")
	if !ok {
		return "", "", false
	}
	name, dir, hasDir := strings.Cut(rest, "/")
	if !hasDir {
		return name, "", name != ""
	}
	dir, err := url.PathUnescape(dir)
	if err != nil || dir == "" || strings.HasSuffix(dir, "/") {
		return "", "", false
	}
	if _, err := bundle.CleanPath(dir); err != nil {
		return "", "", false
	}
	return name, dir, true
}

// dirChildren lists the direct children of dir ("" for the skill's root)
// in a version's manifest, files and the subdirectories their paths imply,
// in path order.
func dirChildren(sk store.Skill, dir string, files []store.FileEntry) []*mcp.Resource {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	var out []*mcp.Resource
	seen := map[string]bool{}
	for _, f := range files {
		rest, ok := strings.CutPrefix(f.Path, prefix)
		if !ok {
			continue
		}
		if sub, _, isDir := strings.Cut(rest, "/"); isDir {
			if !seen[sub] {
				seen[sub] = true
				out = append(out, &mcp.Resource{URI: fileURI(sk.Name, prefix+sub), Name: sub, MIMEType: "inode/directory"})
			}
			continue
		}
		r := &mcp.Resource{URI: fileURI(sk.Name, f.Path), Name: rest, MIMEType: typeByName(f.Path), Size: f.Size}
		if f.Path == bundle.SkillFile {
			// The extension's metadata for a SKILL.md resource.
			r.Name, r.Description, r.MIMEType = sk.Name, sk.Description, "text/markdown"
		}
		out = append(out, r)
	}
	return out
}

// typeByName is a file's type when its name alone tells it (a directory
// listing reads no bytes), "" when it would take the bytes.
func typeByName(p string) string {
	if path.Base(p) == "SKILL.md" {
		return "text/markdown"
	}
	t, _, _ := strings.Cut(mime.TypeByExtension(path.Ext(p)), ";")
	return strings.TrimSpace(t)
}

// rpcError turns a backend error into a JSON-RPC error: invalid input and
// missing things are invalid params (-32602, as the extension and
// resources/read specify), everything else an internal error (-32603) with
// the tools' message, never internals.
func (t *tools) rpcError(op string, err error) error {
	code := int64(jsonrpc.CodeInternalError)
	switch service.KindOf(err) {
	case service.NotFound, service.Invalid:
		code = jsonrpc.CodeInvalidParams
	}
	return &jsonrpc.Error{Code: code, Message: toolError(t.log, op, err).Error()}
}
