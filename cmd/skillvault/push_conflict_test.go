package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// TestCLIPushHiddenName: pushing a folder whose name another member's
// private skill holds fails with the neutral conflict ("not available"),
// not with a 404 about a skill of that name.
func TestCLIPushHiddenName(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	other := s.User(a.ID, "other@acme.example", "member", "read", "write")
	md := "---\nname: hidden-plan\ndescription: A plan nobody else sees.\n---\n# Plan\n"
	oa, err := s.Svc.Authenticate(context.Background(), other.Key, service.RequestMeta{Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.CreateSkill(context.Background(), oa, []bundle.File{{Path: "SKILL.md", Data: []byte(md)}},
		service.PublishOptions{Publish: true, Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hidden-plan")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte(strings.Replace(md, "nobody else sees", "of mine", 1)), 0o644)
	r := newCLI(t, s.URL, a.Member.Key).run("push", dir)
	if r.code != exitFail || !strings.Contains(r.stdout+r.stderr, "not available") ||
		strings.Contains(r.stdout+r.stderr, "no skill named") || strings.Contains(r.stdout+r.stderr, "exists") {
		t.Errorf("push under a hidden skill's name: %v", r)
	}
}
