package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/store"
)

// TestEncodeJSONMatchesEncoder checks that the answers writeJSON encodes
// without reflection (a skill, a page of skills) are the bytes
// json.Encoder writes for them, for empty, nil and full pages, with and
// without a next cursor. (store.TestSkillAppendJSON covers the skill
// object itself over thousands of awkward skills.)
func TestEncodeJSONMatchesEncoder(t *testing.T) {
	n := 3
	fork := "<b>&\u2028"
	published := time.Date(2026, 12, 1, 23, 59, 59, 123456789, time.FixedZone("z", 3600))
	skills := []store.Skill{
		{ID: uuid.New(), Name: "a", Tags: []string{}, CreatedAt: time.Unix(0, 0).UTC()},
		{ID: uuid.New(), Name: "b\"c", Title: "T\xff", Tags: []string{"x", "<y>"}, PublishedVersion: &n, ForkOf: &fork,
			RatingAverage: 1.0 / 3, PublishedAt: &published, PendingVersion: &n, UpdatedAt: published},
	}
	for _, v := range []any{
		skills[0], skills[1],
		Page[store.Skill]{Items: skills, NextCursor: EncodeCursor(30)},
		Page[store.Skill]{Items: []store.Skill{}},
		Page[store.Skill]{},
		page([]store.Skill(nil), 30, func(store.Skill) any { return 0 }),
		map[string]int{"other": 1},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(v); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := encodeJSON(&got, v); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if got.String() != want.String() {
			t.Errorf("%T:\n got %s\nwant %s", v, got.String(), want.String())
		}
	}
}
