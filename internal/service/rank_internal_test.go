package service

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
)

func benchVectors(n, dims int) (*tenantVectors, []float32) {
	r := rand.New(rand.NewPCG(1, 2))
	tv := &tenantVectors{dims: dims}
	for range n {
		tv.ids = append(tv.ids, uuid.New())
		for range dims {
			tv.flat = append(tv.flat, r.Float32()-0.5)
		}
	}
	q := make([]float32, dims)
	for i := range q {
		q[i] = r.Float32() - 0.5
	}
	return tv, q
}

// BenchmarkRank10k ranks a 10,000-skill tenant's builtin vectors.
func BenchmarkRank10k(b *testing.B) {
	tv, q := benchVectors(10000, 1024)
	for b.Loop() {
		tv.rank(q, 100, uuid.Nil, nil)
	}
}

func TestRankMatchesBruteForce(t *testing.T) {
	tv, q := benchVectors(5000, 64)
	got := tv.rank(q, 10, tv.ids[3], nil)
	best := -1.0
	for i := range tv.ids {
		if i == 3 {
			continue
		}
		var dot float32
		for j := range q {
			dot += tv.flat[i*64+j] * q[j]
		}
		best = max(best, float64(dot))
	}
	if len(got) != 10 || got[0].Score < best-1e-4 || got[0].ID == tv.ids[3] {
		t.Fatalf("top = %+v, want score %v", got[0], best)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Score > got[i-1].Score {
			t.Fatal("not sorted")
		}
	}
}
