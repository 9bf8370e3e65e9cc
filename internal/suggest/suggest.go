// Package suggest finds what a user probably meant to type: the "did you
// mean" of a misspelt config field or command-line flag.
package suggest

import "strings"

// Closest returns the candidate nearest to s — within edit distance 2,
// compared case-insensitively, or one that s (3 characters or more) is a
// prefix of — or "" when none is near. Ties go to the earlier candidate.
func Closest(s string, candidates []string) string {
	best, bestDist := "", 3
	low := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(low, strings.ToLower(c))
		if len(s) >= 3 && strings.HasPrefix(strings.ToLower(c), low) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
