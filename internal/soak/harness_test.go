package soak_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/server"
	"github.com/skillvault/skillvault/internal/service"
)

// env is a running server over one database, assembled as `skillvault
// serve` assembles it (REST, MCP, embedding worker), on loopback.
type env struct {
	url      string
	adminURL string // superuser, for consistency checks only
	ownerURL string
	db       *database.DB
	svc      *service.Service
	srv      *server.Server
}

// startEnv opens the app pool at appURL with opt and serves until the test
// ends.
func startEnv(t *testing.T, appURL, ownerURL, adminURL string, opt database.Options) *env {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, appURL, opt)
	if err != nil {
		t.Fatalf("open the app pool: %v", err)
	}
	// SKILLVAULT_SOAK_LOG=1 shows the server's warnings and errors.
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("SKILLVAULT_SOAK_LOG") == "1" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	svc := service.New(db, service.Options{Logger: log})
	srv := server.New(svc, server.Config{RateLimit: 100000, Logger: log, Ready: func(context.Context) error { return nil }})
	mcpserver.Mount(srv.Mux, svc, mcpserver.HTTPOptions{Logger: log,
		Authenticate: func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "mcp") },
		Allow:        srv.API.Allow,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Run(sctx, ln); close(done) }()
	emb := make(chan struct{})
	go func() { svc.RunEmbedder(sctx, 250*time.Millisecond); close(emb) }()
	lis := make(chan struct{})
	go func() { svc.RunAuthListener(sctx); close(lis) }() // as serve does
	t.Cleanup(func() {
		cancel()
		<-done
		<-emb
		<-lis
		svc.Wait()
		db.Close()
	})
	return &env{url: "http://" + ln.Addr().String(), adminURL: adminURL, ownerURL: ownerURL, db: db, svc: svc, srv: srv}
}

// requests is the soak's size: SKILLVAULT_SOAK_REQUESTS, else 10,000
// (3,000 with -short).
func requests(t *testing.T) int {
	if s := os.Getenv("SKILLVAULT_SOAK_REQUESTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SKILLVAULT_SOAK_REQUESTS=%q is not a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 3000
	}
	return 10000
}

// user is a tenant's user with an API key.
type user struct {
	id    uuid.UUID
	email string
	role  string // admin or member
	key   string
}

// tenant is one tenant of the soak with what its clients were told was
// accepted. Names in a tenant carry its marker (zt07z), so a leak of any of
// its data into another tenant's response is a plain substring.
type tenant struct {
	n      int
	id     uuid.UUID
	marker string
	admin  user
	member user
	seeds  []string // published skills every user of the tenant sees
	hidden []string // the admin's private seeds, invisible to the member

	mu      sync.Mutex
	usage   map[string]*[4]int64      // skill -> accepted installs, downloads, views, invokes
	unsure  map[string]int64          // skill -> events of writes whose outcome is unknown
	ratings map[string]map[string]int // skill -> user email -> stars
	unrated map[string]bool           // skills with a rating write of unknown outcome
	gone    map[string]bool           // deleted skills
}

var eventIndex = map[string]int{"install": 0, "download": 1, "view": 2, "invoke": 3}
var events = []string{"install", "download", "view", "invoke"}

func (tn *tenant) accept(skill, event string, n int64) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	c := tn.usage[skill]
	if c == nil {
		c = &[4]int64{}
		tn.usage[skill] = c
	}
	c[eventIndex[event]] += n
}

func (tn *tenant) uncertain(skill string, n int64) {
	tn.mu.Lock()
	tn.unsure[skill] += n
	tn.mu.Unlock()
}

func (tn *tenant) rated(skill, email string, stars int) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if tn.ratings[skill] == nil {
		tn.ratings[skill] = map[string]int{}
	}
	tn.ratings[skill][email] = stars
}

// world is the soak's tenants on one server.
type world struct {
	env     *env
	tenants []*tenant
}

func marker(i int) string { return fmt.Sprintf("zt%02dz", i) }

// skillFiles is a valid bundle named name with a script and a reference.
func skillFiles(name, what string, version int) []bundle.File {
	md := fmt.Sprintf("---\nname: %s\ndescription: %s Use it when you need to %s.\nmetadata:\n  revision: \"%d\"\n---\n# %s\n\n"+
		"Follow these steps to %s. Run scripts/run.sh, then read references/guide.md.\n", name, what, strings.ToLower(what), version, name, strings.ToLower(what))
	return []bundle.File{
		{Path: "SKILL.md", Data: []byte(md)},
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho " + name + " " + strconv.Itoa(version) + "\n")},
		{Path: "references/guide.md", Data: []byte("# Guide for " + name + "\n\nRevision " + strconv.Itoa(version) + ".\n")},
	}
}

var topics = []string{
	"Extract tables from PDF invoices.", "Convert spreadsheets to CSV reports.", "Deploy containers to a Kubernetes cluster.",
	"Summarise customer support tickets.", "Resize images and add watermarks.", "Review contracts for privacy clauses.",
	"Plan sprint backlogs with estimates.", "Transcribe podcast audio.", "Find leaked secrets in repositories.",
	"Write release notes from commits.",
}

// newWorld creates n tenants with an admin, a member and their seeds.
func newWorld(t *testing.T, e *env, n int) *world {
	t.Helper()
	ctx := context.Background()
	o, err := database.OpenOwner(ctx, e.ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	w := &world{env: e}
	for i := range n {
		m := marker(i)
		tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: m, Name: "Tenant " + m})
		if err != nil {
			t.Fatal(err)
		}
		sys := service.System(tn.ID)
		if err := e.svc.EnsureTenant(ctx, sys); err != nil {
			t.Fatal(err)
		}
		on := true
		if _, err := e.svc.UpdateSettings(ctx, sys, service.SettingsPatch{PublicDiscovery: &on}); err != nil {
			t.Fatal(err)
		}
		x := &tenant{n: i, id: tn.ID, marker: m, usage: map[string]*[4]int64{}, unsure: map[string]int64{},
			ratings: map[string]map[string]int{}, unrated: map[string]bool{}, gone: map[string]bool{}}
		mk := func(role string) user {
			email := role + "@" + m + ".example"
			u, err := e.svc.CreateUser(ctx, sys, service.NewUser{Email: email, Name: role + " of " + m, Role: role})
			if err != nil {
				t.Fatal(err)
			}
			scopes := []string{"read", "write"}
			if role == "admin" {
				scopes = append(scopes, "admin")
			}
			k, err := e.svc.CreateKey(ctx, sys, u.ID, service.NewKey{Name: "soak", Scopes: scopes})
			if err != nil {
				t.Fatal(err)
			}
			return user{id: u.ID, email: email, role: role, key: k.Secret}
		}
		x.admin, x.member = mk("admin"), mk("member")
		seed := func(u user, name, visibility string) {
			a, err := e.svc.Authenticate(ctx, u.key, service.RequestMeta{Source: "api"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.CreateSkill(ctx, a, skillFiles(name, topics[(i+len(name))%len(topics)], 1),
				service.PublishOptions{Publish: true, Visibility: visibility, Category: "soak", Tags: []string{m}})
			if err != nil {
				t.Fatalf("seed %s: %v", name, err)
			}
		}
		seed(x.admin, m+"-pub", "public")
		seed(x.member, m+"-team", "tenant")
		seed(x.member, m+"-member-p-seed", "private")
		seed(x.admin, m+"-admin-p-seed", "private")
		x.seeds = []string{m + "-pub", m + "-team"}
		x.hidden = []string{m + "-admin-p-seed"}
		w.tenants = append(w.tenants, x)
	}
	e.svc.EmbedDue(ctx)
	return w
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
	err    error // transport error; status is 0
}

func (r *response) json(v any) error { return json.Unmarshal(r.body, v) }

func (r *response) String() string {
	if r.err != nil {
		return "transport error: " + r.err.Error()
	}
	return fmt.Sprintf("%d %.300s", r.status, r.body)
}

// send makes one request; body is nil, []byte (sent with contentType) or a
// value encoded as JSON.
func send(ctx context.Context, hc *http.Client, method, url, key string, body any, contentType string) *response {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return &response{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return &response{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: data, took: time.Since(start), err: err}
}

// zipOf is files as a zip archive.
func zipOf(t testing.TB, files []bundle.File) []byte {
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
