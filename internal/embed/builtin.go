package embed

import (
	"context"
	"math"
	"sync"
	"unicode/utf8"
)

// BuiltinDimensions is the length of builtin vectors. Hashing features
// into a vector adds noise of about 1/sqrt(dimensions) to every cosine,
// and a long SKILL.md has thousands of features; at 512 that noise was as
// large as a one-word match, at 1024 it is comfortably below.
const BuiltinDimensions = 1024

// BuiltinModel names the builtin embedder's vectors. Change it whenever
// the features or weights below change, so stored vectors are recomputed
// rather than compared with incompatible ones.
const BuiltinModel = "builtin-v2"

// Builtin is an offline embedder: a bag of weighted lexical features,
// hashed into a fixed-size vector. It needs no network and no model file,
// is deterministic, and runs at thousands of short texts per second on a
// core. It knows no meaning beyond its small concept table, so it is a
// fallback, not a rival to a neural model.
//
// For each word (lower-cased, folded to plain letters, stop words
// dropped) it emits:
//   - the stemmed word (so "tests", "testing" and "tested" agree);
//   - character 3- to 5-grams of the word with boundary marks, shared out
//     over the word, so unknown words and compounds still overlap
//     ("playwright"/"play", "webapp"/"web");
//   - each concept of the concept table the word belongs to, so
//     paraphrases meet ("picture" and "image");
//   - the bigram with the previous word, so phrases count for more than
//     their words scattered across a page, and the concept of a known
//     phrase ("log in", "screen reader") that its words do not name.
//
// A feature's weight is its average occurrence weight times 1+ln(count),
// so a long document cannot win by repeating a word. Words that nearly
// every skill uses count for less (genericWeight). Each feature is hashed
// (FNV-1a, 64-bit) to a dimension and a sign; the signs make collisions
// cancel out on average instead of piling up. The vector is L2-normalised.
type Builtin struct{}

// NewBuiltin returns the builtin embedder.
func NewBuiltin() Builtin { return Builtin{} }

func (Builtin) Model() string   { return BuiltinModel }
func (Builtin) Dimensions() int { return BuiltinDimensions }

// Embed embeds each text. It only fails if ctx is done.
func (e Builtin) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = e.Vector(t)
	}
	return out, nil
}

// Feature kinds, hashed in front of the feature text so that the word
// "test" and the concept "test" are different features.
const (
	kindWord    = 'w'
	kindGram    = 'g'
	kindConcept = 'c'
	kindBigram  = 'b'
)

// Relative weights of the feature kinds. Words dominate; n-grams, being
// many per word, share gramWeight between them.
const (
	wordWeight   = 1.0
	partWeight   = 0.5
	gramWeight   = 0.25
	bigramWeight = 0.5
)

// minGram is the shortest character n-gram.
const minGram = 4

// bag accumulates features. Features are kept in order of first
// occurrence, and each feature's occurrences are summed in text order, so
// the floating-point sums always run in the same order: the same text
// gives the same bits.
//
// The index is a small open-addressing table rather than a map: a
// SKILL.md has thousands of features, and a map cost more to grow (or to
// clear, when reused) than everything else together.
type bag struct {
	slots []slot // len is a power of two
	feats []feature
}

type slot struct {
	hash uint64
	idx  int32 // index in feats + 1; 0 means empty
}

type feature struct {
	hash  uint64
	sum   float64 // sum of occurrence weights
	count int32
}

var bags = sync.Pool{New: func() any { return new(bag) }}

// getBag returns an empty bag sized for about n features.
func getBag(n int) *bag {
	b := bags.Get().(*bag)
	size := 64
	for size < 2*n {
		size <<= 1
	}
	if cap(b.slots) >= size {
		b.slots = b.slots[:size]
		clear(b.slots)
	} else {
		b.slots = make([]slot, size)
	}
	b.feats = b.feats[:0]
	return b
}

func (b *bag) release() {
	if cap(b.slots) > 1<<20 {
		return // let the collector have bags grown by huge texts
	}
	bags.Put(b)
}

func (b *bag) add(h uint64, weight float32) {
	if 2*(len(b.feats)+1) > len(b.slots) {
		b.grow()
	}
	i := b.find(h)
	s := &b.slots[i]
	if s.idx == 0 {
		b.feats = append(b.feats, feature{hash: h})
		s.hash, s.idx = h, int32(len(b.feats))
	}
	f := &b.feats[s.idx-1]
	f.sum += float64(weight)
	f.count++
}

// find returns the slot holding h, or the empty slot where it belongs.
func (b *bag) find(h uint64) uint64 {
	mask := uint64(len(b.slots) - 1)
	i := h & mask
	for b.slots[i].idx != 0 && b.slots[i].hash != h {
		i = (i + 1) & mask
	}
	return i
}

// grow doubles the table, keeping it at most half full.
func (b *bag) grow() {
	b.slots = make([]slot, 2*len(b.slots))
	for j, f := range b.feats {
		b.slots[b.find(f.hash)] = slot{f.hash, int32(j + 1)}
	}
}

// Vector embeds one text.
func (Builtin) Vector(text string) []float32 {
	toks := tokenize(text)
	b := getBag(12 * len(toks))
	defer b.release()
	var prev string
	for _, tok := range toks {
		w := normalizeWord(tok.word)
		if stopWords[w] {
			prev = ""
			continue
		}
		s := stem(w)
		weight := float32(1)
		if genericStems[s] {
			weight = genericWeight
		}
		b.add(hash1(kindWord, s), weight*wordWeight)
		for _, p := range tok.parts {
			if p = stem(normalizeWord(p)); p != s && !stopWords[p] {
				b.add(hash1(kindWord, p), weight*partWeight) // "FastMCP" meets "MCP"
			}
		}
		if cs := conceptsByStem[s]; len(cs) > 0 {
			cw := weight * conceptWeight / float32(math.Sqrt(float64(len(cs))))
			for _, c := range cs {
				b.add(hash1(kindConcept, c), cw)
			}
		}
		b.addGrams(w, weight*gramWeight)
		if prev != "" {
			b.add(hash2(kindBigram, prev, s), weight*bigramWeight)
			if c, ok := conceptsByPhrase[prev+" "+s]; ok {
				b.add(hash1(kindConcept, c), conceptWeight)
			}
		}
		prev = s
	}
	return b.project()
}

// appendGrams adds the character 3- to 5-grams of "<word>", each weighted
// so that a word's grams together weigh about total.
func (bg *bag) addGrams(word string, total float32) {
	var buf [maxTokenLen*utf8.UTFMax + 2]byte
	b := append(buf[:0], '<')
	b = append(b, word...)
	b = append(b, '>')
	// Offsets of rune starts, so grams never split a character.
	var starts [maxTokenLen + 3]int
	n := 0
	for i := range string(b) {
		starts[n] = i
		n++
	}
	starts[n] = len(b)
	count := 0
	for size := minGram; size <= 5; size++ {
		if n >= size {
			count += n - size + 1
		}
	}
	if count == 0 {
		return
	}
	w := total / float32(math.Sqrt(float64(count)))
	for size := minGram; size <= 5; size++ {
		for i := 0; i+size <= n; i++ {
			bg.add(hashBytes(kindGram, b[starts[i]:starts[i+size]]), w)
		}
	}
}

// project sums the features into a signed, hashed, normalised vector.
// A feature's value is its mean occurrence weight times 1+ln(count).
func (b *bag) project() []float32 {
	const dims = BuiltinDimensions
	acc := make([]float64, dims)
	for _, f := range b.feats {
		n := float64(f.count)
		v := f.sum / n * (1 + math.Log(n))
		if f.hash&1 == 1 {
			v = -v
		}
		acc[(f.hash>>1)%dims] += v
	}
	out := make([]float32, dims)
	var norm float64
	for _, x := range acc {
		norm += x * x
	}
	if norm == 0 {
		return out
	}
	inv := 1 / math.Sqrt(norm)
	for i, x := range acc {
		out[i] = float32(x * inv)
	}
	return out
}

// FNV-1a, 64-bit, written out so hashing a feature allocates nothing.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hash1(kind byte, s string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return mix(h)
}

func hash2(kind byte, a, b string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * fnvPrime
	}
	h = (h ^ ' ') * fnvPrime
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * fnvPrime
	}
	return mix(h)
}

func hashBytes(kind byte, s []byte) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for _, c := range s {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return mix(h)
}

// mix spreads FNV's weak low bits (which pick the sign and dimension)
// with a final avalanche step from SplitMix64.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
