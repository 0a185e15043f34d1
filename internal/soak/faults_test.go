package soak_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bench"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
)

// Fault-test settings: the bounds a request may take while the database
// is away, and how soon the server must be back after it returns.
const (
	outageStatementTimeout = 2 * time.Second
	outageConnectTimeout   = 2 * time.Second
	// A request may wait for one connect attempt and one statement.
	outageMaxRequest = outageStatementTimeout + outageConnectTimeout + time.Second
	recoveryBound    = 5 * time.Second
)

// TestDatabaseOutage stops PostgreSQL while the soak runs and starts it
// again. It uses a private cluster (the shared test cluster is not
// touched). During the outage every answer is a quick 503 problem+json and
// /readyz is not ready; within 5 s of the database's return the server
// answers again by itself; afterwards no write is half-applied and every
// usage event a client was told was accepted is stored.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl, err := bench.StartCluster(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(context.Background()) })
	d, err := cl.CreateDatabase(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, d.AppURL+fmt.Sprintf("&connect_timeout=%d", int(outageConnectTimeout.Seconds())), d.OwnerURL, d.AdminURL,
		database.Options{MaxConns: 16, StatementTimeout: outageStatementTimeout})
	w := newWorld(t, e, 6)
	r := &runner{w: w, target: 1 << 40, mcp: true, outage: true}
	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() { r.run(runCtx, t); close(done) }()
	key := w.tenants[0].admin.key
	hc := &http.Client{Timeout: 30 * time.Second}

	time.Sleep(2 * time.Second)
	if r.count.Load() == 0 {
		t.Fatal("the soak made no request before the outage")
	}
	before := r.count.Load()
	if err := cl.PG().Stop(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("database stopped after %d requests", before)
	// While it is down: probes answer 503 problem+json, quickly.
	for i := range 10 {
		for _, path := range []string{"/readyz", "/api/v1/me", "/api/v1/skills"} {
			resp := send(ctx, hc, "GET", e.url+path, key, nil, "")
			if resp.err != nil || resp.status != http.StatusServiceUnavailable || resp.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("outage probe %d: GET %s = %s, want 503 problem+json", i, path, resp)
			}
			if resp.took > outageMaxRequest {
				t.Errorf("outage probe: GET %s took %s, more than %s", path, resp.took, outageMaxRequest)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := cl.PG().Start(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	recovered := false
	for time.Since(back) < recoveryBound {
		me := send(ctx, hc, "GET", e.url+"/api/v1/me", key, nil, "")
		ready := send(ctx, hc, "GET", e.url+"/readyz", "", nil, "")
		if me.status == 200 && ready.status == 200 {
			recovered = true
			t.Logf("the server answered again %s after the database returned", time.Since(back).Round(time.Millisecond))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !recovered {
		t.Errorf("the server did not recover within %s of the database's return", recoveryBound)
	}
	// Let the soak run on the recovered server for a while.
	after := r.count.Load()
	time.Sleep(3 * time.Second)
	r.stop.Store(true)
	<-done
	r.report(t)
	if r.unavailable.Load() == 0 {
		t.Error("no soak request saw the outage (no 503 answers)")
	}
	if slow := time.Duration(r.slowest503.Load()); slow > outageMaxRequest {
		t.Errorf("a request took %s to answer 503, more than %s", slow, outageMaxRequest)
	}
	if r.count.Load()-after < 50 {
		t.Errorf("only %d soak requests after the recovery", r.count.Load()-after)
	}
	verify(t, w, true)
}

// TestKillMidUpload runs the real binary, kills it with SIGKILL while a
// large multipart upload is half sent, restarts it, and checks that the
// skill does not exist (not even partly) while the skill uploaded before
// is intact.
func TestKillMidUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.NewEmpty(t)
	bin, cleanup, err := bench.Binary(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)

	// A tenant and a key, made in process on the same database.
	pool, err := database.Open(ctx, db.AppURL, database.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	svc := service.New(pool, service.Options{})
	o, err := database.OpenOwner(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: "killed"})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	sys := service.System(tn.ID)
	if err := svc.EnsureTenant(ctx, sys); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, sys, service.NewUser{Email: "admin@killed.example", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateKey(ctx, sys, u.ID, service.NewKey{Name: "kill", Scopes: []string{"read", "write", "admin"}})
	if err != nil {
		t.Fatal(err)
	}

	srv := startServe(t, bin, db.AppURL, db.OwnerURL)
	hc := &http.Client{Timeout: 30 * time.Second}
	body, ct := multipartOf(skillFiles("kept", "Keep this skill.", 1))
	if r := send(ctx, hc, "POST", srv.url+"/api/v1/skills?publish=true", k.Secret, body, ct); r.status != 201 {
		t.Fatalf("upload before the kill: %s", r)
	}

	// A 6 MiB upload sent slowly; the server dies after a third of it.
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16)
	files := append(skillFiles("half-sent", "Never stored.", 1), bundle.File{Path: "assets/big.bin", Data: big})
	body, ct = multipartOf(files)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", srv.url+"/api/v1/skills?publish=true", pr)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+k.Secret)
	result := make(chan error, 1)
	go func() {
		resp, err := hc.Do(req)
		if err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			err = fmt.Errorf("the upload was answered %d: %.200s", resp.StatusCode, data)
			if resp.StatusCode < 300 {
				err = fmt.Errorf("the half-sent upload was accepted: %d %.200s", resp.StatusCode, data)
			}
		}
		result <- err
	}()
	sent := 0
	for sent < len(body)/3 {
		n, err := pw.Write(body[sent:min(sent+64<<10, len(body))])
		if err != nil {
			t.Fatalf("writing the upload: %v", err)
		}
		sent += n
		time.Sleep(5 * time.Millisecond)
	}
	srv.kill(t)
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if err := <-result; err == nil || strings.Contains(err.Error(), "accepted") {
		t.Fatalf("the upload did not fail with the server: %v", err)
	}
	t.Logf("killed the server after %d of %d bytes", sent, len(body))

	srv = startServe(t, bin, db.AppURL, db.OwnerURL)
	if r := send(ctx, hc, "GET", srv.url+"/api/v1/skills/half-sent", k.Secret, nil, ""); r.status != 404 {
		t.Errorf("the half-sent skill after the restart: %s, want 404", r)
	}
	r := send(ctx, hc, "GET", srv.url+"/api/v1/skills", k.Secret, nil, "")
	var page struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &page) != nil || len(page.Items) != 1 || page.Items[0].Name != "kept" {
		t.Errorf("skills after the restart: %s, want only kept", r)
	}
	if r := send(ctx, hc, "GET", srv.url+"/api/v1/skills/kept/versions/1/bundle.zip", k.Secret, nil, ""); r.status != 200 {
		t.Errorf("the skill uploaded before the kill: %s", r)
	}
	probs, err := bench.CheckConsistency(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("half-applied write: %s", p)
	}
}

// multipartOf is a bundle as multipart form files.
func multipartOf(files []bundle.File) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		fw, _ := mw.CreateFormFile("file", f.Path)
		fw.Write(f.Data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// serveProc is `skillvault serve` running as a subprocess.
type serveProc struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
	out    outputBuffer
}

// outputBuffer collects a subprocess's output, written by the process's
// copying goroutines while the test reads it.
type outputBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outputBuffer) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(b)
}

func (o *outputBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// startServe runs bin serve against an external database and waits until
// it is ready; it is killed when the test ends.
func startServe(t *testing.T, bin, appURL, ownerURL string) *serveProc {
	t.Helper()
	port, err := bench.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := &serveProc{url: "http://" + addr, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--addr", addr)
	p.cmd.Env = append(bench.CleanEnv(), "DATABASE_URL="+appURL, "SKILLVAULT_OWNER_URL="+ownerURL, "SKILLVAULT_LOG_LEVEL=warn")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill(t) })
	for deadline := time.Now().Add(60 * time.Second); ; {
		r := send(context.Background(), http.DefaultClient, "GET", p.url+"/readyz", "", nil, "")
		if r.status == 200 {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("serve exited: %s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not ready after a minute: %s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serveProc) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("serve did not die from SIGKILL")
	}
}
