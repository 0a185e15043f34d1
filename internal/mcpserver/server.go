package mcpserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// Version is the server version reported to MCP clients.
var Version = "1"

// BackendFunc returns the backend for one request. Over HTTP it comes from
// the request's authenticated key; over stdio it is always the same.
type BackendFunc func(ctx context.Context, extra *mcp.RequestExtra) (Backend, error)

// Options configure NewServer.
type Options struct {
	Logger *slog.Logger
}

const instructions = `Skillvault is your organisation's registry of Agent Skills: folders with a SKILL.md (instructions with YAML frontmatter) and optional scripts, references and assets.
Use search_skills to find a skill for the task at hand, then get_skill to read its SKILL.md and file list, and read_skill_file for any file SKILL.md refers to.
Skill files are also resources at skill://{name}/{path}, and hosts that implement MCP's Skills extension find the same skills with skills/list.
With a write-scoped key you can rate_skill, record_usage (e.g. "invoke" when you used a skill) and publish_skill.`

// NewServer returns an MCP server with Skillvault's tools and resources;
// each request runs against the backend that backendFor returns for it.
func NewServer(backendFor BackendFunc, opt Options) *mcp.Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	t := &tools{backendFor: backendFor, log: opt.Logger}
	s := mcp.NewServer(&mcp.Implementation{Name: "skillvault", Title: "Skillvault", Version: Version},
		&mcp.ServerOptions{Instructions: instructions, Logger: opt.Logger, HasResources: true,
			Capabilities: &mcp.ServerCapabilities{Logging: &mcp.LoggingCapabilities{}, Extensions: skillsCapability()},
			// Every answer depends on the caller's key.
			SetCacheable: func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) { c.CacheScope = "private" }})
	t.register(s)
	t.registerSkills(s)
	return s
}

// StaticBackend is a BackendFunc that always returns b (stdio mode).
func StaticBackend(b Backend) BackendFunc {
	return func(context.Context, *mcp.RequestExtra) (Backend, error) { return b, nil }
}

type tools struct {
	backendFor BackendFunc
	log        *slog.Logger
}

func (t *tools) backend(ctx context.Context, extra *mcp.RequestExtra) (Backend, error) {
	b, err := t.backendFor(ctx, extra)
	if err != nil {
		return nil, toolError(t.log, "authentication", err)
	}
	return b, nil
}

func readOnly() *mcp.ToolAnnotations {
	f := false
	return &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &f}
}

func writes(idempotent bool) *mcp.ToolAnnotations {
	f := false
	return &mcp.ToolAnnotations{DestructiveHint: &f, IdempotentHint: idempotent, OpenWorldHint: &f}
}

func (t *tools) register(s *mcp.Server) {
	addTool(s, &mcp.Tool{Name: "search_skills", Title: "Search skills", Annotations: readOnly(),
		Description: "Find skills in the organisation's Skillvault registry that fit a task: describe the task in plain words (keyword and semantic search, best match first). " +
			"Returns each skill's name, description, current version, digest, average rating and number of uses; then call get_skill with a name to read the skill. " +
			"When no skill matches, skills is empty, message says so and closest lists the nearest skills, which are not matches."}, t.search)
	addTool(s, &mcp.Tool{Name: "get_skill", Title: "Get a skill", Annotations: readOnly(),
		Description: "Read one skill: the full text of its SKILL.md (the instructions to follow) and the manifest of its files (path, size, sha256 digest). " +
			"Without a version you get the published version (or the newest while none is published). Read other files with read_skill_file."}, t.getSkill)
	addTool(s, &mcp.Tool{Name: "read_skill_file", Title: "Read a skill file", Annotations: readOnly(),
		Description: "Read one file of a skill, by its path in the manifest that get_skill returns (e.g. scripts/run.sh or references/api.md). " +
			"Text files come back as text (encoding \"text\"), binary files as base64 (encoding \"base64\")."}, t.readFile)
	addTool(s, &mcp.Tool{Name: "list_skills", Title: "List skills", Annotations: readOnly(),
		Description: "List the skills you can see, by name, a page at a time, optionally in one category. Pass next_cursor from the previous answer to get the next page; an empty next_cursor means the last page."}, t.list)
	addTool(s, &mcp.Tool{Name: "rate_skill", Title: "Rate a skill", Annotations: writes(true),
		Description: "Rate a skill from 1 to 5 stars, with an optional comment saying what worked or did not. Rating again replaces your earlier rating. Needs a key with the write scope."}, t.rate)
	addTool(s, &mcp.Tool{Name: "record_usage", Title: "Record skill usage", Annotations: writes(false),
		Description: "Record that a skill was used, so the organisation knows which skills help: event \"invoke\" when you followed a skill, \"view\" when you only read it, \"download\" or \"install\" when you copied it locally. Needs a key with the write scope."}, t.recordUsage)
	addTool(s, &mcp.Tool{Name: "publish_skill", Title: "Publish a skill", Annotations: writes(false),
		Description: "Upload a skill bundle: SKILL.md (YAML frontmatter with name and description, then instructions) plus any scripts/, references/ or assets/ files, each with its path and content. " +
			"Creates the skill, or a new version when a skill of that name exists (unchanged bundles are reported as unchanged). With publish=true the version is published at once (or sent to review when the organisation requires it); otherwise it stays a draft. " +
			"An invalid bundle is refused with one problem per file and line. Needs a key with the write scope."}, t.publish)

	s.AddResourceTemplate(&mcp.ResourceTemplate{Name: "skill-file", Title: "Skill file", URITemplate: "skill://{name}/{+path}",
		Description: "A file of a skill's current version, e.g. skill://pdf-tools/SKILL.md or skill://pdf-tools/scripts/extract.py."}, t.readResource)
	// Resources depend on who asks, so resources/list is answered per
	// request instead of from a fixed list.
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method == "resources/list" {
				if r, ok := req.(*mcp.ListResourcesRequest); ok {
					return t.listResources(ctx, r)
				}
			}
			return next(ctx, method, req)
		}
	})
}

// SkillSummary is a skill in search results and lists.
type SkillSummary struct {
	Name        string   `json:"name" jsonschema:"the skill's name; pass it to get_skill"`
	Title       string   `json:"title,omitempty" jsonschema:"human title from SKILL.md"`
	Description string   `json:"description" jsonschema:"what the skill does and when to use it"`
	Category    string   `json:"category,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Status      string   `json:"status" jsonschema:"draft, in_review, published or archived"`
	Version     int      `json:"version" jsonschema:"current version: the published one, or the newest while none is published"`
	Digest      string   `json:"digest,omitempty" jsonschema:"sha256 digest of that version's files"`
	Rating      float64  `json:"rating" jsonschema:"average stars (1-5), 0 when unrated"`
	RatingCount int      `json:"rating_count"`
	Uses        int64    `json:"uses" jsonschema:"installs, downloads, views and invocations recorded"`
}

func summary(sk store.Skill) SkillSummary {
	return SkillSummary{Name: sk.Name, Title: sk.Title, Description: sk.Description, Category: sk.Category, Tags: sk.Tags,
		Status: sk.Status, Version: currentVersion(sk), Rating: sk.RatingAverage, RatingCount: sk.RatingCount, Uses: sk.Uses()}
}

// SearchInput is search_skills' arguments.
type SearchInput struct {
	Query    string   `json:"query" jsonschema:"what you need a skill for, e.g. 'fill in PDF forms' or 'write release notes'; empty lists the most used skills"`
	Category string   `json:"category,omitempty" jsonschema:"only skills in this category"`
	Tags     []string `json:"tags,omitempty" jsonschema:"only skills carrying all these tags"`
	Limit    int      `json:"limit,omitempty" jsonschema:"at most this many results (1-50, default 10)"`
}

// SearchOutput is search_skills' result.
type SearchOutput struct {
	Skills  []SkillSummary `json:"skills"`
	Message string         `json:"message,omitempty" jsonschema:"set when no skill matches the query"`
	Closest []SkillSummary `json:"closest,omitempty" jsonschema:"when no skill matches: the skills nearest in meaning, which are not matches"`
}

// closestFinder is a backend that can list the skills nearest a query
// that matched none.
type closestFinder interface {
	ClosestSkills(ctx context.Context, q SearchQuery) ([]service.SearchHit, error)
}

func (t *tools) search(ctx context.Context, req *mcp.CallToolRequest, in SearchInput) (*mcp.CallToolResult, SearchOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, SearchOutput{}, err
	}
	if in.Limit == 0 {
		in.Limit = 10
	}
	if in.Limit < 1 || in.Limit > 50 {
		return nil, SearchOutput{}, errors.New("invalid: limit must be between 1 and 50")
	}
	hits, err := b.SearchSkills(ctx, SearchQuery{Query: in.Query, Category: in.Category, Tags: in.Tags, Limit: in.Limit})
	if err != nil {
		return nil, SearchOutput{}, toolError(t.log, "search_skills", err)
	}
	out := SearchOutput{}
	if out.Skills, err = summaries(ctx, b, hits); err != nil {
		return nil, SearchOutput{}, toolError(t.log, "search_skills", err)
	}
	if len(hits) == 0 && strings.TrimSpace(in.Query) != "" {
		out.Message = fmt.Sprintf("no skill matches %q", in.Query)
		if cf, ok := b.(closestFinder); ok {
			closest, err := cf.ClosestSkills(ctx, SearchQuery{Query: in.Query, Category: in.Category, Tags: in.Tags, Limit: in.Limit})
			if err != nil {
				return nil, SearchOutput{}, toolError(t.log, "search_skills", err)
			}
			if out.Closest, err = summaries(ctx, b, closest); err != nil {
				return nil, SearchOutput{}, toolError(t.log, "search_skills", err)
			}
			if len(out.Closest) == 0 {
				out.Closest = nil
			}
		}
	}
	return nil, out, nil
}

// summaries turns search hits into the tool's skill summaries, reading
// the digest of a hit that lacks it.
func summaries(ctx context.Context, b Backend, hits []service.SearchHit) ([]SkillSummary, error) {
	out := []SkillSummary{}
	for _, h := range hits {
		sum := SkillSummary{Name: h.Name, Title: h.Title, Description: h.Description, Category: h.Category, Tags: h.Tags,
			Status: h.Status, Version: h.Version, Digest: h.Digest, Rating: h.RatingAverage, RatingCount: h.RatingCount, Uses: h.Uses}
		if sum.Digest == "" && sum.Version > 0 {
			// The digest lets an agent tell whether its local copy is current.
			if v, err := b.Version(ctx, h.Name, itoa(h.Version)); err == nil {
				sum.Digest = v.Digest
			} else if service.KindOf(err) != service.NotFound {
				return nil, err
			}
		}
		out = append(out, sum)
	}
	return out, nil
}

// GetInput is get_skill's arguments.
type GetInput struct {
	Name    string `json:"name" jsonschema:"the skill's name"`
	Version int    `json:"version,omitempty" jsonschema:"a version number; omit for the current version"`
}

// FileInfo is one line of a version's manifest.
type FileInfo struct {
	Path   string `json:"path"`
	Size   int64  `json:"size" jsonschema:"bytes"`
	Digest string `json:"digest" jsonschema:"sha256:<hex> of the file's bytes"`
	URI    string `json:"uri" jsonschema:"the file as an MCP resource"`
}

// SkillOutput is get_skill's result.
type SkillOutput struct {
	Name          string     `json:"name"`
	Title         string     `json:"title,omitempty"`
	Description   string     `json:"description"`
	Category      string     `json:"category,omitempty"`
	Tags          []string   `json:"tags,omitempty"`
	Status        string     `json:"status"`
	Visibility    string     `json:"visibility" jsonschema:"private, tenant or public"`
	Version       int        `json:"version" jsonschema:"the version shown"`
	LatestVersion int        `json:"latest_version"`
	Published     int        `json:"published_version,omitempty" jsonschema:"the published version, absent while none is"`
	Digest        string     `json:"digest" jsonschema:"sha256 digest of the version's files (Agent Skills discovery digest)"`
	Rating        float64    `json:"rating"`
	RatingCount   int        `json:"rating_count"`
	Uses          int64      `json:"uses"`
	SkillMD       string     `json:"skill_md" jsonschema:"the full text of SKILL.md: follow these instructions"`
	Files         []FileInfo `json:"files" jsonschema:"every file of the version; read them with read_skill_file"`
}

func (t *tools) getSkill(ctx context.Context, req *mcp.CallToolRequest, in GetInput) (*mcp.CallToolResult, SkillOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, SkillOutput{}, err
	}
	sk, v, err := resolve(ctx, b, in.Name, in.Version)
	if err != nil {
		return nil, SkillOutput{}, toolError(t.log, "get_skill", err)
	}
	md, err := b.File(ctx, sk.Name, itoa(v.Number), "SKILL.md")
	if err != nil {
		return nil, SkillOutput{}, toolError(t.log, "get_skill", err)
	}
	out := SkillOutput{Name: sk.Name, Title: sk.Title, Description: sk.Description, Category: sk.Category, Tags: sk.Tags,
		Status: sk.Status, Visibility: sk.Visibility, Version: v.Number, LatestVersion: sk.LatestVersion, Digest: v.Digest,
		Rating: sk.RatingAverage, RatingCount: sk.RatingCount, Uses: sk.Uses(), SkillMD: string(md), Files: manifest(sk.Name, v.Files)}
	if sk.PublishedVersion != nil {
		out.Published = *sk.PublishedVersion
	}
	return nil, out, nil
}

func manifest(name string, files []store.FileEntry) []FileInfo {
	out := make([]FileInfo, len(files))
	for i, f := range files {
		out[i] = FileInfo{Path: f.Path, Size: f.Size, Digest: "sha256:" + f.SHA256, URI: fileURI(name, f.Path)}
	}
	return out
}

// resolve finds a skill and the version asked for (0: the current one).
func resolve(ctx context.Context, b Backend, name string, version int) (store.Skill, service.VersionDetail, error) {
	if err := checkName(name); err != nil {
		return store.Skill{}, service.VersionDetail{}, err
	}
	if version < 0 {
		return store.Skill{}, service.VersionDetail{}, &service.Error{Kind: service.Invalid, Msg: "version must be a positive number; omit it for the current version"}
	}
	sk, err := b.Skill(ctx, name)
	if err != nil {
		return sk, service.VersionDetail{}, err
	}
	ref := currentRef(sk)
	if version > 0 {
		ref = itoa(version)
	}
	v, err := b.Version(ctx, name, ref)
	return sk, v, err
}

// checkName refuses names that cannot be skills before they reach a URL.
func checkName(name string) error {
	if bundle.ValidateName(name) != nil {
		return &service.Error{Kind: service.NotFound, Msg: fmt.Sprintf("no skill named %q (names are lowercase letters, digits and hyphens; use search_skills to find one)", name)}
	}
	return nil
}

// ReadInput is read_skill_file's arguments.
type ReadInput struct {
	Name    string `json:"name" jsonschema:"the skill's name"`
	Path    string `json:"path" jsonschema:"the file's path in the skill, as listed by get_skill, e.g. scripts/run.sh"`
	Version int    `json:"version,omitempty" jsonschema:"a version number; omit for the current version"`
}

// FileOutput is read_skill_file's result.
type FileOutput struct {
	Name     string `json:"name"`
	Version  int    `json:"version"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Digest   string `json:"digest" jsonschema:"sha256:<hex> of the file's bytes"`
	MIMEType string `json:"mime_type"`
	Encoding string `json:"encoding" jsonschema:"text, or base64 for binary files"`
	Content  string `json:"content"`
}

func (t *tools) readFile(ctx context.Context, req *mcp.CallToolRequest, in ReadInput) (*mcp.CallToolResult, FileOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, FileOutput{}, err
	}
	f, err := readSkillFile(ctx, b, in.Name, in.Path, in.Version, MaxFileBytes)
	if err != nil {
		return nil, FileOutput{}, toolError(t.log, "read_skill_file", err)
	}
	out := FileOutput{Name: in.Name, Version: f.version, Path: f.path, Size: int64(len(f.data)), Digest: bundle.FileDigest(f.data),
		MIMEType: f.mime, Encoding: "text"}
	if f.text {
		out.Content = string(f.data)
	} else {
		out.Encoding, out.Content = "base64", base64.StdEncoding.EncodeToString(f.data)
	}
	return nil, out, nil
}

type skillFile struct {
	version int
	path    string
	data    []byte
	mime    string
	text    bool
}

// readSkillFile reads one listed file of a version, of at most limit bytes.
func readSkillFile(ctx context.Context, b Backend, name, p string, version int, limit int64) (skillFile, error) {
	clean, err := bundle.CleanPath(p)
	if err != nil {
		return skillFile{}, &service.Error{Kind: service.Invalid, Msg: err.Error() + " (use a path from get_skill's files)"}
	}
	sk, v, err := resolve(ctx, b, name, version)
	if err != nil {
		return skillFile{}, err
	}
	return versionFile(ctx, b, sk.Name, v, clean, limit)
}

// versionFile reads the file at a clean path of a version of skill name,
// refusing one larger than limit and bytes that do not match the manifest.
func versionFile(ctx context.Context, b Backend, name string, v service.VersionDetail, clean string, limit int64) (skillFile, error) {
	var entry *store.FileEntry
	for i := range v.Files {
		if v.Files[i].Path == clean {
			entry = &v.Files[i]
		}
	}
	if entry == nil {
		return skillFile{}, &service.Error{Kind: service.NotFound, Msg: fmt.Sprintf("%s version %d has no file %s (get_skill lists its files)", name, v.Number, clean)}
	}
	if entry.Size > limit {
		return skillFile{}, &service.Error{Kind: service.TooLarge, Msg: fmt.Sprintf("%s is %d bytes, more than the %d this answer carries; download the bundle with the Skillvault CLI instead", clean, entry.Size, limit)}
	}
	data, err := b.File(ctx, name, itoa(v.Number), clean)
	if err != nil {
		return skillFile{}, err
	}
	// Over HTTP the bytes crossed a network: hand over only what the
	// manifest vouches for.
	if d := bundle.FileDigest(data); d != "sha256:"+entry.SHA256 {
		return skillFile{}, &service.Error{Kind: service.Unavailable, Msg: fmt.Sprintf("%s of %s version %d arrived with digest %s, not the %s of its manifest, so it was refused",
			clean, name, v.Number, d, "sha256:"+entry.SHA256)}
	}
	return skillFile{version: v.Number, path: clean, data: data, mime: mimeType(clean, data), text: fileserve.IsText(data)}, nil
}

// mimeType describes the file to an MCP client: metadata for an agent,
// never a type a browser acts on (the HTTP routes serve every file through
// fileserve). The type its extension names, else the type its bytes have;
// SKILL.md is always text/markdown, as the Skills extension says.
func mimeType(p string, data []byte) string {
	if t := typeByName(p); t != "" {
		return t
	}
	ct, _, _ := strings.Cut(fileserve.ContentType(p, data), ";")
	return strings.TrimSpace(ct)
}

// ListInput is list_skills' arguments.
type ListInput struct {
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page; omit for the first page"`
	Category string `json:"category,omitempty" jsonschema:"only skills in this category"`
}

// ListOutput is list_skills' result.
type ListOutput struct {
	Skills     []SkillSummary `json:"skills"`
	NextCursor string         `json:"next_cursor" jsonschema:"pass as cursor for the next page; empty on the last page"`
}

const listPage = 50

func (t *tools) list(ctx context.Context, req *mcp.CallToolRequest, in ListInput) (*mcp.CallToolResult, ListOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, ListOutput{}, err
	}
	skills, next, err := b.ListSkills(ctx, ListQuery{Cursor: in.Cursor, Category: in.Category, Limit: listPage})
	if err != nil {
		return nil, ListOutput{}, toolError(t.log, "list_skills", err)
	}
	out := ListOutput{Skills: []SkillSummary{}, NextCursor: next}
	for _, sk := range skills {
		out.Skills = append(out.Skills, summary(sk))
	}
	return nil, out, nil
}

// RateInput is rate_skill's arguments.
type RateInput struct {
	Name    string `json:"name" jsonschema:"the skill's name"`
	Stars   int    `json:"stars" jsonschema:"1 (useless) to 5 (excellent)"`
	Comment string `json:"comment,omitempty" jsonschema:"what worked or did not, for the skill's author"`
}

// RateOutput is rate_skill's result.
type RateOutput struct {
	Name        string  `json:"name"`
	Stars       int     `json:"stars"`
	Rating      float64 `json:"rating" jsonschema:"the skill's new average"`
	RatingCount int     `json:"rating_count"`
}

func (t *tools) rate(ctx context.Context, req *mcp.CallToolRequest, in RateInput) (*mcp.CallToolResult, RateOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, RateOutput{}, err
	}
	if err := checkName(in.Name); err != nil {
		return nil, RateOutput{}, toolError(t.log, "rate_skill", err)
	}
	r, err := b.Rate(ctx, in.Name, in.Stars, in.Comment)
	if err != nil {
		return nil, RateOutput{}, toolError(t.log, "rate_skill", err)
	}
	return nil, RateOutput{Name: in.Name, Stars: r.Rating.Stars, Rating: r.RatingAverage, RatingCount: r.RatingCount}, nil
}

// UsageInput is record_usage's arguments.
type UsageInput struct {
	Name    string `json:"name" jsonschema:"the skill's name"`
	Event   string `json:"event" jsonschema:"invoke, view, download or install"`
	Version int    `json:"version,omitempty" jsonschema:"the version used, if known"`
}

// UsageOutput is record_usage's result.
type UsageOutput struct {
	Name     string `json:"name"`
	Event    string `json:"event"`
	Version  int    `json:"version,omitempty"`
	Recorded bool   `json:"recorded"`
}

func (t *tools) recordUsage(ctx context.Context, req *mcp.CallToolRequest, in UsageInput) (*mcp.CallToolResult, UsageOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, UsageOutput{}, err
	}
	if err := checkName(in.Name); err != nil {
		return nil, UsageOutput{}, toolError(t.log, "record_usage", err)
	}
	res, err := b.RecordUsage(ctx, service.UsageInput{Skill: in.Name, Version: in.Version, Event: in.Event, Source: "mcp"})
	if err != nil {
		return nil, UsageOutput{}, toolError(t.log, "record_usage", err)
	}
	if res.Accepted == 0 {
		reason := "the event was not recorded"
		if len(res.Rejected) > 0 {
			reason = res.Rejected[0].Reason
		}
		kind := service.Invalid
		if strings.HasPrefix(reason, "no skill named") {
			kind = service.NotFound
		}
		return nil, UsageOutput{}, toolError(t.log, "record_usage", &service.Error{Kind: kind, Msg: reason})
	}
	return nil, UsageOutput{Name: in.Name, Event: in.Event, Version: in.Version, Recorded: true}, nil
}

// BundleFile is one file given to publish_skill.
type BundleFile struct {
	Path     string `json:"path" jsonschema:"path inside the skill, e.g. SKILL.md or scripts/run.sh"`
	Content  string `json:"content" jsonschema:"the file's content"`
	Encoding string `json:"encoding,omitempty" jsonschema:"text (default) or base64 for binary files"`
}

// PublishInput is publish_skill's arguments.
type PublishInput struct {
	Files   []BundleFile `json:"files" jsonschema:"every file of the skill; one must be SKILL.md"`
	Publish bool         `json:"publish,omitempty" jsonschema:"publish the new version at once (default false: keep it as a draft)"`
}

// PublishOutput is publish_skill's result.
type PublishOutput struct {
	Name      string     `json:"name"`
	Version   int        `json:"version"`
	Digest    string     `json:"digest"`
	Status    string     `json:"status" jsonschema:"the skill's status after this: draft, in_review or published"`
	Created   bool       `json:"created" jsonschema:"a new version was stored"`
	Unchanged bool       `json:"unchanged" jsonschema:"the bundle equals the latest version, so nothing was stored"`
	Message   string     `json:"message"`
	Files     []FileInfo `json:"files"`
}

func (t *tools) publish(ctx context.Context, req *mcp.CallToolRequest, in PublishInput) (*mcp.CallToolResult, PublishOutput, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, PublishOutput{}, err
	}
	files, dir, err := bundleFiles(in.Files)
	if err != nil {
		return nil, PublishOutput{}, toolError(t.log, "publish_skill", err)
	}
	p, err := b.Publish(ctx, files, dir, in.Publish)
	if err != nil {
		return nil, PublishOutput{}, toolError(t.log, "publish_skill", err)
	}
	return nil, PublishOutput{Name: p.Skill.Name, Version: p.Version.Number, Digest: p.Version.Digest, Status: p.Skill.Status,
		Created: p.Created, Unchanged: p.Unchanged, Message: p.Message, Files: manifest(p.Skill.Name, p.Files)}, nil
}

// bundleFiles decodes publish_skill's files. A bundle given as name/SKILL.md,
// name/... loses the common folder, which must then match the skill's name.
func bundleFiles(in []BundleFile) ([]bundle.File, string, error) {
	if len(in) == 0 {
		return nil, "", &service.Error{Kind: service.Invalid, Msg: "files is empty: send SKILL.md and the skill's other files"}
	}
	var probs []bundle.Problem
	files := make([]bundle.File, 0, len(in))
	for _, f := range in {
		var data []byte
		switch f.Encoding {
		case "", "text", "utf-8":
			data = []byte(f.Content)
		case "base64":
			var err error
			if data, err = base64.StdEncoding.DecodeString(f.Content); err != nil {
				probs = append(probs, bundle.Problem{File: f.Path, Msg: "content is not valid base64"})
				continue
			}
		default:
			probs = append(probs, bundle.Problem{File: f.Path, Msg: fmt.Sprintf("encoding must be text or base64, not %q", f.Encoding)})
			continue
		}
		files = append(files, bundle.File{Path: f.Path, Data: data})
	}
	if len(probs) > 0 {
		return nil, "", &service.Error{Kind: service.Invalid, Msg: "the skill bundle is not valid", Problems: probs}
	}
	dir := ""
	if first, _, ok := strings.Cut(files[0].Path, "/"); ok && first != "" {
		all := true
		for _, f := range files {
			all = all && strings.HasPrefix(f.Path, first+"/")
		}
		if all {
			for i := range files {
				files[i].Path = strings.TrimPrefix(files[i].Path, first+"/")
			}
			dir = first
		}
	}
	return files, dir, nil
}

// fileURI is the resource URI of a skill file; path segments are escaped
// so any valid bundle path round-trips.
func fileURI(name, p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "skill://" + name + "/" + strings.Join(segs, "/")
}

// parseFileURI splits skill://{name}/{path}.
func parseFileURI(uri string) (name, p string, err error) {
	rest, ok := strings.CutPrefix(uri, "skill://")
	if !ok {
		return "", "", fmt.Errorf("not a skill:// URI")
	}
	name, p, ok = strings.Cut(rest, "/")
	if !ok || name == "" || p == "" {
		return "", "", fmt.Errorf("a skill file URI is skill://{name}/{path}")
	}
	if p, err = url.PathUnescape(p); err != nil {
		return "", "", fmt.Errorf("the path is not validly escaped")
	}
	return name, p, nil
}

func (t *tools) readResource(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	name, p, err := parseFileURI(uri)
	if err != nil {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, err
	}
	f, err := readSkillFile(ctx, b, name, p, 0, MaxSkillBytes)
	if err != nil {
		if service.KindOf(err) == service.NotFound {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		return nil, t.rpcError("read "+uri, err)
	}
	c := &mcp.ResourceContents{URI: uri, MIMEType: f.mime}
	if f.text {
		c.Text = string(f.data)
	} else {
		c.Blob = f.data
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{c}}, nil
}

// listResources lists the SKILL.md of every skill the caller may see; the
// other files are reachable through the template and get_skill's manifest.
func (t *tools) listResources(ctx context.Context, req *mcp.ListResourcesRequest) (*mcp.ListResourcesResult, error) {
	b, err := t.backend(ctx, req.Extra)
	if err != nil {
		return nil, err
	}
	cursor := ""
	if req.Params != nil {
		cursor = req.Params.Cursor
	}
	skills, next, err := b.ListSkills(ctx, ListQuery{Cursor: cursor, Limit: listPage})
	if err != nil {
		return nil, t.rpcError("resources/list", err)
	}
	out := &mcp.ListResourcesResult{Resources: []*mcp.Resource{}, NextCursor: next, Cacheable: private(0)}
	for _, sk := range skills {
		out.Resources = append(out.Resources, &mcp.Resource{URI: fileURI(sk.Name, "SKILL.md"), Name: sk.Name, Title: sk.Title,
			Description: sk.Description, MIMEType: "text/markdown"})
	}
	return out, nil
}

// ServeStdio serves the tools over a stdio-style stream (newline-delimited
// JSON-RPC on in and out) until the client disconnects or ctx ends.
func ServeStdio(ctx context.Context, b Backend, in io.ReadCloser, out io.WriteCloser, log *slog.Logger) error {
	s := NewServer(StaticBackend(b), Options{Logger: log})
	err := s.Run(ctx, &mcp.IOTransport{Reader: in, Writer: out})
	if err != nil && ctx.Err() != nil {
		return nil // stopped on purpose
	}
	return err
}
