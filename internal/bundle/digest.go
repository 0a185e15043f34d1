package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Digest returns the skill-level digest of the Agent Skills Discovery RFC
// v0.2.0: files sorted bytewise by path, each contributing
// "path NUL hex(sha256(data)) LF", and the SHA-256 of all of that, written
// "sha256:<hex>". The order of files does not matter.
func Digest(files []File) string {
	sorted := slices.Clone(files)
	sortFiles(sorted)
	h := sha256.New()
	for _, f := range sorted {
		sum := sha256.Sum256(f.Data)
		h.Write([]byte(f.Path))
		h.Write([]byte{0})
		h.Write([]byte(hex.EncodeToString(sum[:])))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// FileDigest returns "sha256:<hex>" of data, as the discovery index lists
// for each file.
func FileDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sortFiles sorts by path, bytewise (Go compares strings by bytes).
func sortFiles(files []File) {
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
}
