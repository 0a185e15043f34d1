package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
)

type failureRow struct {
	tenant                      uuid.UUID
	remote, requestID, repeated string
}

// failureRows reads the rows of action as the superuser, oldest first.
func failureRows(t *testing.T, f *fixture, action string) []failureRow {
	t.Helper()
	conn := dbtest.Connect(t, f.env.AdminURL)
	rows, err := conn.Query(context.Background(), `SELECT tenant_id, remote_addr, request_id, coalesce(details->>'repeated', '')
		FROM audit_logs WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []failureRow
	for rows.Next() {
		var r failureRow
		if err := rows.Scan(&r.tenant, &r.remote, &r.requestID, &r.repeated); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestRepeatedFailuresAreSummarised: failed authentications are audited
// once per client address (an IPv6 address by its /64), kind and tenant
// per window; the repeats are written as one summary row, with their
// count, when the window closes; the next failure after it opens a new
// window with a row of its own. The window is closed by the test (as
// Shutdown does), not by the clock, so a loaded machine cannot close it
// early; TestFailureWindowClosesByItself covers the timer.
func TestRepeatedFailuresAreSummarised(t *testing.T) {
	f := newFixture(t)
	service.SetFailureWindow(f.svc, time.Hour)
	admin, _ := f.tenant(t, "acme")
	ctx := context.Background()
	bad := "sv_summarysummarysummarysummary"
	fail := func(addr, id string) {
		if _, err := f.svc.Authenticate(ctx, bad, service.RequestMeta{RemoteAddr: addr, RequestID: id, UserAgent: "flood", Source: "api"}); err == nil {
			t.Fatal("a bad key authenticated")
		}
	}
	for i := range 50 {
		fail(fmt.Sprintf("192.0.2.1:%d", 1000+i), fmt.Sprintf("v4-%d", i))
	}
	for i := range 20 {
		fail(fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), fmt.Sprintf("v6-%d", i))
	}
	fail("192.0.2.9:1", "other")
	forged := admin.TenantID.String() + "." + strings.Repeat("z", 43)
	for i := range 30 {
		if _, err := f.svc.RedeemLoginLink(ctx, forged, service.RequestMeta{RemoteAddr: "192.0.2.1:7", RequestID: fmt.Sprint("link-", i)}); err == nil {
			t.Fatal("a forged login link signed in")
		}
	}

	want := func(action string, rows []failureRow) {
		t.Helper()
		got := failureRows(t, f, action)
		if fmt.Sprint(got) != fmt.Sprint(rows) {
			t.Errorf("%s rows:\n got %v\nwant %v", action, got, rows)
		}
	}
	firsts := []failureRow{{uuid.Nil, "192.0.2.1:1000", "v4-0", ""}, {uuid.Nil, "[2001:db8:1:2::1]:443", "v6-0", ""}, {uuid.Nil, "192.0.2.9:1", "other", ""}}
	want("auth.key_failure", firsts)
	want("auth.login_failure", []failureRow{{admin.TenantID, "192.0.2.1:7", "link-0", ""}})

	service.CloseFailureWindows(f.svc)
	summaries := func(action string, n int) []failureRow {
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if rows := failureRows(t, f, action); len(rows) >= n {
				return rows
			}
		}
		return failureRows(t, f, action)
	}
	got := summaries("auth.key_failure", 5)
	if len(got) != 5 || fmt.Sprint(got[:3]) != fmt.Sprint(firsts) {
		t.Fatalf("key failures after the window: %v", got)
	}
	sum := map[string]failureRow{}
	for _, r := range got[3:] {
		sum[r.remote] = r
	}
	if r := sum["192.0.2.1"]; r.repeated != "49" || r.requestID != "" {
		t.Errorf("summary of 192.0.2.1: %+v (all: %v)", r, got)
	}
	if r := sum["2001:db8:1:2::/64"]; r.repeated != "19" || r.requestID != "" {
		t.Errorf("summary of the IPv6 /64: %+v (all: %v)", r, got)
	}
	if got := summaries("auth.login_failure", 2); len(got) != 2 || got[1] != (failureRow{admin.TenantID, "192.0.2.1", "", "29"}) {
		t.Errorf("login failures after the window: %v", got)
	}

	// After the window, the next failure is written at once.
	fail("192.0.2.1:5", "after")
	if got := failureRows(t, f, "auth.key_failure"); len(got) != 6 || got[5] != (failureRow{uuid.Nil, "192.0.2.1:5", "after", ""}) {
		t.Errorf("the failure after the window: %v", got)
	}
}

// TestFailureWindowClosesByItself: without anyone closing it, a window's
// summary row is written when its time is up.
func TestFailureWindowClosesByItself(t *testing.T) {
	f := newFixture(t)
	service.SetFailureWindow(f.svc, 100*time.Millisecond)
	ctx := context.Background()
	for i := range 3 {
		if _, err := f.svc.Authenticate(ctx, "sv_windowwindowwindowwindowwin", service.RequestMeta{RemoteAddr: "192.0.2.77:1", RequestID: fmt.Sprint("w-", i), Source: "api"}); err == nil {
			t.Fatal("a bad key authenticated")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rows := failureRows(t, f, "auth.key_failure"); len(rows) == 2 {
			if rows[1].repeated != "2" {
				t.Fatalf("summary row %+v, want 2 repeats", rows[1])
			}
			return
		}
	}
	t.Fatalf("no summary row within 10 s: %v", failureRows(t, f, "auth.key_failure"))
}
