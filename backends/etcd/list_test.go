package etcd_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/memory"
)

// TestPageBounds checks the ranges a page after a key is read in: the keys
// extending After, then one byte of After given up per read, and 2, then 4
// bytes after three, four … reads in a row that found none; 0xff bytes,
// whose sets end where the next shorter one does, add no read; the last
// read ends at the prefix's end.
func TestPageBounds(t *testing.T) {
	all := func(n int) []bool { return slices.Repeat([]bool{true}, n) }
	for _, tc := range []struct {
		prefix, after, end string
		found              []bool
		want               []string
	}{
		{"/r/", "/r/ab", "/r0", nil, []string{"/r/ac", "/r/b", "/r0"}},
		{"/r/", "/r/ab", "/r0", all(9), []string{"/r/ac", "/r/b", "/r0"}},
		{"", "abcdefgh", "\x00", nil, []string{"abcdefgi", "abcdefh", "abcdeg", "abce", "\x00"}},
		{"", "abcdefgh", "\x00", all(9), []string{"abcdefgi", "abcdefh", "abcdeg", "abcdf", "abce", "abd", "ac", "b", "\x00"}},
		// Empty, found, then empty: steps 1, 1, 1, 1, 2, 4, 4.
		{"", "abcdefghijkl", "\x00", []bool{false, true}, []string{"abcdefghijkm", "abcdefghijl", "abcdefghik", "abcdefghj", "abcdefgi", "abcdeg", "ac", "\x00"}},
		{"/", "/a\xff\xff", "0", nil, []string{"/b", "0"}},
		{"", "\xff\xff", "\x00", nil, []string{"\x00"}},
		{"/r/", "/r/", "/r0", nil, []string{"/r0"}},
		{"/r/", "/r/a", "/r0", nil, []string{"/r/b", "/r0"}},
	} {
		if got := etcd.PageBounds(tc.prefix, tc.after, tc.end, tc.found...); !slices.Equal(got, tc.want) {
			t.Errorf("PageBounds(%q, %q, %q, found %v) = %q, want %q", tc.prefix, tc.after, tc.end, tc.found, got, tc.want)
		}
	}
	// A long key whose reads keep finding keys: a bounded number of
	// narrow reads, then the rest.
	after := "/r/" + strings.Repeat("x", 40)
	got := etcd.PageBounds("/r/", after, "/r0", all(40)...)
	if len(got) != etcd.MaxNarrowReads+1 || got[0] != "/r/"+strings.Repeat("x", 39)+"y" || got[len(got)-1] != "/r0" {
		t.Errorf("PageBounds(%q) = %q: want %d narrow reads, then the rest", after, got, etcd.MaxNarrowReads)
	}
}

// TestListPagesMatchMemory compares pages read from etcd, where a page
// after a key is read in several ranges, with the same pages from the
// memory store, which reads one ordered tree: for random keys made of
// bytes that stress the range ends ("/", NUL, 0xff, digits), random
// prefixes, After keys present, absent or outside the prefix, and limits
// from 1 to more than the keys, every page must hold the same keys and
// values and agree on More. On a three-member cluster the reads after the
// first go to any member, at the first read's revision.
func TestListPagesMatchMemory(t *testing.T) {
	t.Run("members=1", func(t *testing.T) { comparePages(t, etcdtest.Start(t)) })
	t.Run("members=3", func(t *testing.T) { comparePages(t, etcdtest.StartCluster(t, 3).Endpoints()) })
}

func comparePages(t *testing.T, endpoints []string) {
	ctx := t.Context()
	s := open(t, etcd.Options{Endpoints: endpoints})
	etcd.NarrowAlways(s)
	mem := memory.New(memory.Options{})
	defer mem.Close()
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	root := fmt.Sprintf("/pages-%d/", seed%100000)
	alphabet := []string{"/", "\x00", "\xff", "0", "1", "9", "a"}
	word := func(maxLen int) string {
		var b []byte
		for range 1 + rng.IntN(maxLen) {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	var keys []string
	for range 400 {
		keys = append(keys, root+word(7))
	}
	// Keys that share long prefixes, as counters do.
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("%sc/%06d", root, i*7))
	}
	// Keys exactly at the ends of the ranges a page after one of these is
	// read in, where an off-by-one would skip or repeat a key.
	var edged []string
	for _, k := range keys[:40] {
		edged = append(edged, k)
		for m := len(root) + 1; m <= len(k); m++ {
			if e := backends.PrefixEnd(k[:m]); strings.HasPrefix(e, root) {
				keys = append(keys, e)
			}
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		v := []byte("v" + k)
		if _, err := s.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
		if _, err := mem.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	prefixes := []string{root, root + "c/", root + "c/000", root + "/", root + "\xff", root + "\x00"}
	for range 40 {
		prefixes = append(prefixes, root+word(3))
	}
	checked := 0
	for _, prefix := range prefixes {
		afters := []string{"", root, prefix, prefix + "\xff\xff", backends.PrefixEnd(prefix), root + word(8)}
		for range 6 {
			afters = append(afters, keys[rng.IntN(len(keys))], edged[rng.IntN(len(edged))])
		}
		for _, after := range afters {
			for _, limit := range []int{1, 2, 3, 7, 50, 1000} {
				opts := backends.ListOptions{After: after, Limit: limit}
				got, err := s.List(ctx, prefix, opts)
				if err != nil {
					t.Fatalf("etcd List(%q, %+v): %v", prefix, opts, err)
				}
				want, err := mem.List(ctx, prefix, opts)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := pageKeys(got), pageKeys(want); !slices.Equal(g, w) || got.More != want.More {
					i := 0
					for i < min(len(g), len(w)) && g[i] == w[i] {
						i++
					}
					t.Fatalf("List(%q, after %q, limit %d): etcd has %d keys (more %v), memory %d (more %v); they differ from item %d: etcd %q, memory %q",
						prefix, after, limit, len(g), got.More, len(w), want.More, i, g[i:min(i+3, len(g))], w[i:min(i+3, len(w))])
				}
				for i, kv := range got.Items {
					if string(kv.Value) != "v"+kv.Key {
						t.Fatalf("List(%q, after %q): %q has value %q", prefix, after, kv.Key, kv.Value)
					}
					if kv.ModRevision > got.Revision {
						t.Fatalf("item %d modified at %d, after the page's revision %d", i, kv.ModRevision, got.Revision)
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d pages compared", checked)
}

func pageKeys(p backends.Page) []string {
	keys := make([]string, len(p.Items))
	for i, kv := range p.Items {
		keys[i] = kv.Key
	}
	return keys
}
