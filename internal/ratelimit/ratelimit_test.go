package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:5678":             "192.0.2.1",
		"[::ffff:192.0.2.1]:5678":    "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:80":  "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:80":       "2001:db8:1:3::/64",
		"[::1]:80":                   "::/64",
		"not an address":             "not an address",
		"192.0.2.1":                  "192.0.2.1",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBucketsStayBounded: full buckets are forgotten (a full bucket is a
// new one), and when every bucket is in use, new keys share one instead
// of growing the map.
func TestBucketsStayBounded(t *testing.T) {
	b := newBuckets[string](2, 2, 3) // full again after a second
	for i := range 3 {
		if _, ok, _ := b.Take(fmt.Sprint(i)); !ok {
			t.Fatalf("key %d refused", i)
		}
	}
	// The map is full of buckets in use: new keys share the overflow one.
	for i := range 10 {
		b.Take(fmt.Sprint("new", i))
	}
	if n := b.Len(); n != 3 {
		t.Fatalf("%d buckets, want at most 3", n)
	}
	if _, ok, _ := b.Take("another"); ok {
		t.Error("the shared overflow bucket did not limit new keys together")
	}
	// Once the buckets have refilled they are forgotten and new keys get
	// their own again.
	time.Sleep(1200 * time.Millisecond)
	if _, ok, _ := b.Take("fresh"); !ok {
		t.Error("a new key after the buckets refilled was refused")
	}
	if n := b.Len(); n != 1 {
		t.Errorf("%d buckets after pruning, want 1", n)
	}
}

func TestTakeAndEmpty(t *testing.T) {
	b := New[string](1, 2)
	for range 2 {
		if _, ok, _ := b.Take("k"); !ok {
			t.Fatal("refused within the burst")
		}
	}
	if empty, wait := b.Empty("k"); !empty || wait <= 0 || wait > time.Second {
		t.Errorf("Empty after the burst: %v %v", empty, wait)
	}
	if _, ok, wait := b.Take("k"); ok || wait <= 0 {
		t.Errorf("Take over the burst: %v %v", ok, wait)
	}
	res, ok, _ := New[string](1, 1).Take("x")
	if !ok || res == nil {
		t.Fatal("no reservation")
	}
}
